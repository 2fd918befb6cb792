//! `COOKIE_SECURE` / `--cookie-secure` take the usual spellings of a boolean.

use clap::Parser;

use super::Config;

#[test]
fn cookie_secure_values() {
    let cases: &[(&[&str], Option<bool>)] = &[
        (&[], Some(false)),
        (&["--cookie-secure", "true"], Some(true)),
        (&["--cookie-secure", "1"], Some(true)),
        (&["--cookie-secure", "yes"], Some(true)),
        (&["--cookie-secure", "on"], Some(true)),
        (&["--cookie-secure", "false"], Some(false)),
        (&["--cookie-secure", "0"], Some(false)),
        (&["--cookie-secure", "no"], Some(false)),
        (&["--cookie-secure", "maybe"], None),
    ];
    for (args, want) in cases {
        let got =
            Config::try_parse_from(std::iter::once("dashboard-api").chain(args.iter().copied()))
                .ok()
                .map(|c| c.cookie_secure);
        assert_eq!(got, *want, "{args:?}");
    }
}
