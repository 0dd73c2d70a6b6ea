SELECT CAST(random() AS text), nextval('s'), 1 OPERATOR(public.===) 2
