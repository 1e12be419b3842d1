//! Every misuse of `network!` fails to compile with one clear error at the
//! tokens that are wrong. The expected compiler output is pinned in
//! `tests/ui/*.stderr`; regenerate it with
//! `TRYBUILD=overwrite cargo test --test compile_fail` and read the diff.

#[test]
fn misuses_of_network_fail_with_clear_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
