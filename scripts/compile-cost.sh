#!/usr/bin/env bash
# What a `network!` costs the compiler, by depth.
#
# Generates throwaway crates in a temporary directory, each depending on
# this workspace's `staticnet` by path and declaring one network of N
# layers (the loss layer included) that it also instantiates, so that the
# generic code is compiled, not only checked. After a warm-up build of the
# dependencies, it touches each crate's source and rebuilds it from scratch
# (CARGO_INCREMENTAL=0) three times, and prints the median wall and CPU
# time of that rebuild. A crate with no network at all gives the fixed cost
# to subtract.
#
# Usage: scripts/compile-cost.sh [depth ...]     (default: 2 8 32)
#   PROFILE=release scripts/compile-cost.sh      to time release builds
#   WIDTHS=same scripts/compile-cost.sh          every Affine the same type
#   KEEP=1 scripts/compile-cost.sh               to keep the temp dir
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
depths=("${@:-2 8 32}")
read -r -a depths <<<"${depths[*]}"
profile="${PROFILE:-dev}"
widths="${WIDTHS:-distinct}"
runs=3

work="$(mktemp -d "${TMPDIR:-/tmp}/staticnet-compile-cost.XXXXXX")"
if [[ -z "${KEEP:-}" ]]; then
    trap 'rm -rf "$work"' EXIT
else
    echo "keeping $work"
fi

# The layers of a network of `depth` layers: Affine and an activation in
# turn, ending in an Affine to 10 outputs and the loss layer. With
# WIDTHS=distinct (the default) every Affine has its own sizes, so every
# layer is a new type for the compiler to instantiate: the worst case. With
# WIDTHS=same they all are `Affine<32, 32>`, which isolates the cost of the
# generated glue from that of instantiating layers.
layers() {
    local depth=$1 k width=32 next out=()
    for ((k = 1; k < depth; k++)); do
        if ((k == depth - 1)); then
            out+=("Affine<$width, 10>")
        elif ((k % 2 == 1)); then
            if [[ "$widths" == same ]]; then next=32; else next=$((33 + k)); fi
            out+=("Affine<$width, $next>")
            width=$next
        elif ((k % 4 == 0)); then
            out+=("Sigmoid")
        else
            out+=("Relu")
        fi
    done
    out+=("SoftmaxWithLoss")
    printf '%s,\n        ' "${out[@]}"
}

members=()
make_crate() {
    local name=$1 depth=$2
    mkdir -p "$work/$name/src"
    cat >"$work/$name/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
staticnet = { path = "$root" }
EOF
    if ((depth == 0)); then
        cat >"$work/$name/src/lib.rs" <<'EOF'
//! The fixed cost: a crate that uses staticnet without a network.
use staticnet::prelude::*;

pub fn use_it(x: &Batch<f32, Const<32>>) -> usize {
    x.batch_size()
}
EOF
    else
        cat >"$work/$name/src/lib.rs" <<EOF
//! A network of $depth layers.
use staticnet::prelude::*;

network! {
    /// The network under measurement.
    pub struct Net<
        $(layers "$depth")
    >
}

/// Instantiates the generic code, so that it is compiled too.
pub fn use_it(rng: &mut StdRng, x: &Batch<f32, Const<32>>, t: &[usize]) -> f32 {
    let mut net = Net::<f32>::new(rng);
    let loss = net.backprop(x, t);
    net.sgd_step(0.1);
    loss + net.loss(x, t) + net.accuracy(x, t) as f32
}
EOF
    fi
    members+=("\"$name\"")
}

make_crate net_0 0
for depth in "${depths[@]}"; do
    make_crate "net_$depth" "$depth"
done
(
    IFS=,
    printf '[workspace]\nmembers = [%s]\nresolver = "2"\n' "${members[*]}" >"$work/Cargo.toml"
)
# The same dependency versions as the workspace.
cp "$root/Cargo.lock" "$work/Cargo.lock" 2>/dev/null || true

export CARGO_TARGET_DIR="$work/target"
# Without incremental compilation, a touched crate is compiled afresh, not
# replayed from the incremental cache.
export CARGO_INCREMENTAL=0
cd "$work"
flags=()
[[ "$profile" == release ]] && flags+=(--release)

echo "warming up: building the dependencies ($profile profile, $widths widths)…"
cargo build --quiet "${flags[@]}" --workspace

median() { printf '%s\n' "$@" | sort -g | sed -n "$(((${#@} + 1) / 2))p"; }

# Prints the median wall time and the median CPU time (user + sys, which
# other jobs on the machine disturb less) of rebuilding crate `$1`.
measure() {
    local name=$1 walls=() cpus=() wall user sys
    for ((r = 0; r < runs; r++)); do
        touch "$work/$name/src/lib.rs"
        read -r wall user sys < <({ TIMEFORMAT='%R %U %S'; time cargo build --quiet "${flags[@]}" -p "$name" >/dev/null 2>&1; } 2>&1)
        walls+=("$wall")
        cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
    done
    echo "$(median "${walls[@]}") $(median "${cpus[@]}")"
}

minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

printf '\n%-7s %-9s %-9s %-16s %s\n' layers "wall (s)" "cpu (s)" "cpu minus base" "(median of $runs rebuilds)"
read -r base_wall base_cpu < <(measure net_0)
printf '%-7s %-9.2f %-9.2f %-16s\n' 0 "$base_wall" "$base_cpu" "-"
for depth in "${depths[@]}"; do
    read -r wall cpu < <(measure "net_$depth")
    printf '%-7s %-9.2f %-9.2f %-16s\n' "$depth" "$wall" "$cpu" "$(minus "$cpu" "$base_cpu")"
done
