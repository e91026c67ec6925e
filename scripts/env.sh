# Puts the project's own toolchain (installed by scripts/setup) first on PATH.
# Usage: source scripts/env.sh
RUVECTOR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RUVECTOR_ROOT
export PATH="$RUVECTOR_ROOT/.tools/bun/node_modules/.bin:$RUVECTOR_ROOT/.tools/zig/ziglang:$RUVECTOR_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Model cache of the embedding tests, examples and benchmarks (filled by scripts/fetch-models).
export RUVECTOR_MODELS_DIR="${RUVECTOR_MODELS_DIR:-$RUVECTOR_ROOT/.cache/models}"
