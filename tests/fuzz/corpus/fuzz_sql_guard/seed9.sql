SELECT $$ :x $$, $tag$ :x $$ $tag$, E'\\':x', "a:x", :since::timestamptz -- :y
/* /* :z */ */