// Preloaded by scripts/test-arm64 into the arm64 Bun running under qemu-user.
// Tests spawn child processes with `process.execPath`, which qemu reports as the
// arm64 bun binary; without binfmt_misc (containers, hosted CI) the kernel cannot
// exec it, so children are pointed at a wrapper that runs them under qemu too.
const wrapper = process.env.RUVECTOR_QEMU_BUN;
if (!wrapper) throw new Error("RUVECTOR_QEMU_BUN must name the qemu wrapper for the arm64 bun");
process.execPath = wrapper;
