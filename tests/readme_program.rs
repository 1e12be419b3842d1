//! The README's first program is `examples/first_program.rs`, word for
//! word: the README's copy is compiled as a doc test, the example is run.

#[test]
fn the_readme_shows_the_first_program_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/first_program.rs");
    let start = readme
        .find("```rust,no_run\nuse staticnet::prelude::*;")
        .expect("the README has the first program");
    let block = &readme[start + "```rust,no_run\n".len()..];
    let block = &block[..block.find("```").expect("the block ends")];
    assert_eq!(block, example);
}
