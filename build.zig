//! Native build driver: cargo with `zig cc` as the linker for each target,
//! cbindgen for the header, and a copy of each (stripped) artifact into its
//! per-platform npm package under npm/bun-<target>/.
//!
//!   zig build                                 linux-x64-gnu (glibc 2.17) + header
//!   zig build -Dtarget-name=linux-arm64-gnu   one target
//!   zig build linux                           linux-x64-gnu + linux-arm64-gnu (what CI builds and tests)
//!   zig build musl                            linux-x64-musl + linux-arm64-musl (needs `rustup target add`)
//!   zig build targets                         list the declared targets and what each needs
//!   zig build header                          regenerate libruvector/include/ruvector.h
//!
//! Which rustc compiles a target (`-Drust=`):
//!   rustup  the rustup toolchain on PATH; it needs `rustup target add <triple>` (works on
//!           hosted CI, and measured working here for the musl, darwin and windows std).
//!   debian  Debian bookworm-security's rustc-web 1.96, unpacked by scripts/cross-toolchain
//!           into .tools/rust-web with the x86_64 and aarch64 std; no other std ships with it.
//!   auto    (default) debian for linux-arm64-gnu, rustup for everything else.
//! Linking is always `zig cc` through scripts/zig-cc, so glibc targets pin glibc 2.17.
const std = @import("std");

const Target = struct {
    name: []const u8, // npm platform key: npm/bun-<name>/
    rust: []const u8, // rustc target triple
    zig: []const u8, // zig cc target
    lib: []const u8, // artifact file name
    ci: bool, // built (and tested) by the project's CI on its Debian 12 x86_64 machines
    package: bool, // has an npm platform package (npm/bun-<name>/) the library is copied into
    needs: []const u8, // what building it takes, and its state
};

const targets = [_]Target{
    .{ .name = "linux-x64-gnu", .rust = "x86_64-unknown-linux-gnu", .zig = "x86_64-linux-gnu.2.17", .lib = "libruvector.so", .ci = true, .package = true, .needs = "rustup x86_64 toolchain + zig; built and tested by CI" },
    .{ .name = "linux-arm64-gnu", .rust = "aarch64-unknown-linux-gnu", .zig = "aarch64-linux-gnu.2.17", .lib = "libruvector.so", .ci = true, .package = true, .needs = "Debian rustc-web aarch64 std (scripts/cross-toolchain) or rustup target + zig; built by CI, tested under qemu-aarch64" },
    .{ .name = "linux-x64-musl", .rust = "x86_64-unknown-linux-musl", .zig = "x86_64-linux-musl", .lib = "libruvector.so", .ci = false, .package = true, .needs = "rustup target add x86_64-unknown-linux-musl (Debian ships no musl std) + zig; RUSTFLAGS -crt-static makes a cdylib possible; builds here (zig build musl), not run: no musl Bun/libc in the test set-up" },
    .{ .name = "linux-arm64-musl", .rust = "aarch64-unknown-linux-musl", .zig = "aarch64-linux-musl", .lib = "libruvector.so", .ci = false, .package = true, .needs = "rustup target add aarch64-unknown-linux-musl + zig; builds here (zig build musl), not run" },
    .{ .name = "darwin-x64", .rust = "x86_64-apple-darwin", .zig = "x86_64-macos.11.0", .lib = "libruvector.dylib", .ci = false, .package = false, .needs = "rustup target add x86_64-apple-darwin + zig (macOS libSystem stubs); the code is portable (cfg(unix), pipe + fcntl where pipe2 is missing) and the release workflow builds it; not packaged or supported until a macOS run passes the tests (the loader, compiled-binary embedding and onnxruntime-node paths still assume .so)" },
    .{ .name = "darwin-arm64", .rust = "aarch64-apple-darwin", .zig = "aarch64-macos.11.0", .lib = "libruvector.dylib", .ci = false, .package = false, .needs = "rustup target add aarch64-apple-darwin + zig; as darwin-x64: built by the release workflow, not packaged or tested" },
};

const Rust = enum { auto, rustup, debian };

fn findTarget(name: []const u8) ?Target {
    for (targets) |t| if (std.mem.eql(u8, t.name, name)) return t;
    return null;
}

/// CARGO_TARGET_<TRIPLE>_<suffix>, the per-target cargo setting.
fn cargoTargetEnv(b: *std.Build, rust: []const u8, suffix: []const u8) []const u8 {
    const upper = b.allocator.alloc(u8, rust.len) catch @panic("OOM");
    for (rust, 0..) |c, i| upper[i] = if (c == '-') '_' else std.ascii.toUpper(c);
    return b.fmt("CARGO_TARGET_{s}_{s}", .{ upper, suffix });
}

/// cargo build for one target, then a copy of the artifact into its npm package.
fn addTarget(b: *std.Build, root: []const u8, t: Target, rust: Rust) *std.Build.Step {
    const use_debian = switch (rust) {
        .debian => true,
        .rustup => false,
        .auto => std.mem.eql(u8, t.name, "linux-arm64-gnu"),
    };
    const cargo_args = [_][]const u8{ "build", "--release", "--lib", "--target", t.rust, "--manifest-path", "libruvector/Cargo.toml" };
    const cargo = if (use_debian) blk: {
        // Checked at run time so `zig build targets` works before the toolchain is fetched.
        const rust_web = b.fmt("{s}/.tools/rust-web", .{root});
        const run = b.addSystemCommand(&.{ "sh", "-c", "test -x \"$RUSTC\" || { echo \"missing $RUSTC: run scripts/cross-toolchain\" >&2; exit 1; }; exec cargo \"$@\"", "cargo" });
        run.addArgs(&cargo_args);
        run.setEnvironmentVariable("RUSTC", b.fmt("{s}/usr/bin/rustc", .{rust_web}));
        // The unpacked rustc finds librustc_driver and libLLVM here instead of /usr/lib.
        run.setEnvironmentVariable("LD_LIBRARY_PATH", b.fmt("{s}/usr/lib/x86_64-linux-gnu", .{rust_web}));
        break :blk run;
    } else blk: {
        const run = b.addSystemCommand(&.{"cargo"});
        run.addArgs(&cargo_args);
        break :blk run;
    };
    cargo.setEnvironmentVariable(cargoTargetEnv(b, t.rust, "LINKER"), b.fmt("{s}/scripts/zig-cc", .{root}));
    if (std.mem.endsWith(u8, t.rust, "-musl")) {
        // Rust's musl targets link the C runtime statically by default, which rules out cdylibs.
        cargo.setEnvironmentVariable(cargoTargetEnv(b, t.rust, "RUSTFLAGS"), "-C target-feature=-crt-static");
    }
    cargo.setEnvironmentVariable("RUV_ZIG_TARGET", t.zig);
    cargo.setEnvironmentVariable("RUV_ZIG", b.graph.zig_exe);
    cargo.has_side_effects = true;

    if (!t.package) return &cargo.step;
    // The release profile has `strip = "symbols"`, so the artifact is already stripped.
    const artifact = b.fmt("libruvector/target/{s}/release/{s}", .{ t.rust, t.lib });
    const copy = b.addSystemCommand(&.{ "cp", artifact, b.fmt("npm/bun-{s}/{s}", .{ t.name, t.lib }) });
    copy.step.dependOn(&cargo.step);
    copy.has_side_effects = true;
    return &copy.step;
}

/// A named step building several targets one after another, so the cargo
/// processes do not fight over the target directory lock.
fn addGroup(b: *std.Build, root: []const u8, rust: Rust, name: []const u8, description: []const u8, names: []const []const u8) void {
    const group = b.step(name, description);
    var previous: ?*std.Build.Step = null;
    for (names) |n| {
        const s = addTarget(b, root, findTarget(n).?, rust);
        if (previous) |p| s.dependOn(p);
        group.dependOn(s);
        previous = s;
    }
}

pub fn build(b: *std.Build) void {
    const name = b.option([]const u8, "target-name", "npm platform key to build (default linux-x64-gnu; see `zig build targets`)") orelse "linux-x64-gnu";
    const rust = b.option(Rust, "rust", "which rustc compiles: auto (default), rustup, debian") orelse .auto;
    const root = b.root.toString(b.allocator) catch @panic("OOM");

    const header = b.addSystemCommand(&.{ "cbindgen", "--quiet", "--config", "libruvector/cbindgen.toml", "--crate", "libruvector", "--output", "libruvector/include/ruvector.h", "libruvector" });
    header.has_side_effects = true;
    b.step("header", "Regenerate the C header with cbindgen").dependOn(&header.step);
    b.getInstallStep().dependOn(&header.step);

    if (findTarget(name)) |t| {
        b.getInstallStep().dependOn(addTarget(b, root, t, rust));
    } else {
        b.getInstallStep().dependOn(&b.addFail(b.fmt("unknown target-name {s}; `zig build targets` lists them", .{name})).step);
    }

    addGroup(b, root, rust, "linux", "Build linux-x64-gnu and linux-arm64-gnu (glibc 2.17), what CI builds and tests", &.{ "linux-x64-gnu", "linux-arm64-gnu" });
    addGroup(b, root, rust, "musl", "Build linux-x64-musl and linux-arm64-musl (needs their rustup std)", &.{ "linux-x64-musl", "linux-arm64-musl" });

    var listing: []const u8 = "target            CI    rust triple / what building it needs\n";
    for (targets) |t| {
        listing = b.fmt("{s}{s: <17} {s: <5} {s}\n                        {s}\n", .{ listing, t.name, if (t.ci) "yes" else "no", t.rust, t.needs });
    }
    const list = b.addSystemCommand(&.{ "printf", "%s", listing });
    list.has_side_effects = true;
    b.step("targets", "List the declared targets and what each needs").dependOn(&list.step);
}
