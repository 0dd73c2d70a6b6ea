/*
 * test_redact.c - URLs shown with their secrets masked, and driver messages scrubbed of a
 * URL's secrets.
 */
#include "helpers.h"
#include "util/redact.h"

static void expect_redact(const char *url, const char *want)
{
	char *got = sw_redact_url(url);
	if (strcmp(got, want))
		fail_msg("redact %s: got '%s', want '%s'", url, got, want);
	free(got);
}

static void test_redact_url(void **state)
{
	(void)state;
	expect_redact("postgresql://u:pw@host/db", "postgresql://u:***@host/db");
	/* no '/' after the host: was shown whole */
	expect_redact("postgresql://u:pw@host", "postgresql://u:***@host");
	expect_redact("postgresql://u:pw@host:5432", "postgresql://u:***@host:5432");
	expect_redact("http://admin:tok3n@127.0.0.1:8080", "http://admin:***@127.0.0.1:8080");
	/* a password holding '/', '?' or '@' is masked whole */
	expect_redact("postgresql://u:p/a?s@s@host/db", "postgresql://u:***@host/db");
	/* ?password= and key=value forms */
	expect_redact("postgresql://u@host/db?password=Sekr1t&sslmode=require",
	              "postgresql://u@host/db?password=***&sslmode=require");
	expect_redact("postgresql://u@host/db?sslmode=require&PASSWORD=Sekr1t",
	              "postgresql://u@host/db?sslmode=require&PASSWORD=***");
	expect_redact("postgresql://u:pw@host/db?password=x",
	              "postgresql://u:***@host/db?password=***");
	expect_redact("host=h password='a b\\' c' user=u", "host=h password='***' user=u");
	expect_redact("host=h password = bare user=u", "host=h password = *** user=u");
	/* nothing to hide */
	expect_redact("postgresql://u@host/db", "postgresql://u@host/db");
	expect_redact("postgresql://u:@host/db", "postgresql://u:@host/db");
	expect_redact("postgresql://host:5432/db", "postgresql://host:5432/db");
	expect_redact("sqlite:///var/x.db", "sqlite:///var/x.db");
	expect_redact("postgresql://u@host/db?mypassword=x", "postgresql://u@host/db?mypassword=x");
	expect_redact("", "");
}

static void expect_scrub(const char *url, const char *msg, const char *want)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", msg);
	sw_scrub_secrets(url, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("scrub %s of %s: got '%s', want '%s'", msg, url ? url : "(null)", buf,
		         want);
}

static void test_scrub(void **state)
{
	(void)state;
	expect_scrub("postgresql://app:Hunter2%zz@h/db",
	             "invalid percent-encoded token: \"Hunter2%zz\"",
	             "invalid percent-encoded token: \"***\"");
	expect_scrub("postgresql://app:Hunter2@[::1/db",
	             "end of string reached in URI: \"postgresql://app:Hunter2@[::1/db\"",
	             "end of string reached in URI: \"postgresql://app:***@[::1/db\"");
	/* percent-decoded too */
	expect_scrub("postgresql://app:p%40ss%2Fw@h/db", "password \"p@ss/w\" and p%40ss%2Fw",
	             "password \"***\" and ***");
	expect_scrub("postgresql://app@h/db?password=Sekr1t", "token \"Sekr1t\" twice Sekr1t",
	             "token \"***\" twice ***");
	expect_scrub("postgresql://app@h/db", "nothing to do", "nothing to do");
	expect_scrub(NULL, "nothing to do", "nothing to do");
	/* a secret that decodes to an empty string ("%00...") masks its raw form and leaves the
	 * rest alone (it looped forever: an empty needle matches everywhere) */
	expect_scrub("postgresql://app:%00@h/db", "near \"%00\" here", "near \"***\" here");
	expect_scrub("postgresql://app@h/db?password=%00x", "near %00x and x", "near *** and x");
	expect_scrub("password=%00", "%%%%% ' ~!z@", "%%%%% ' ~!z@");
	/* a one-byte secret in a message full of it: every one masked */
	expect_scrub("password=%", "%a%b%c%", "***a***b***c***");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_redact_url),
	    cmocka_unit_test(test_scrub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
