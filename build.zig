//! Native build driver: cargo with `zig cc` as the linker for each target,
//! cbindgen for the header, and a copy of each artifact into its per-platform
//! npm package. `zig build` builds the host target (x86_64 Linux, glibc 2.17).
//!
//!   zig build                      x86_64-linux-gnu (glibc 2.17)
//!   zig build -Dtarget-name=linux-arm64-gnu
//!   zig build header               regenerate libruvector/include/ruvector.h
const std = @import("std");

const Target = struct {
    name: []const u8, // npm platform key
    rust: []const u8, // rustc target triple
    zig: []const u8, // zig cc target
    lib: []const u8, // artifact file name
};

const targets = [_]Target{
    .{ .name = "linux-x64-gnu", .rust = "x86_64-unknown-linux-gnu", .zig = "x86_64-linux-gnu.2.17", .lib = "libruvector.so" },
    .{ .name = "linux-arm64-gnu", .rust = "aarch64-unknown-linux-gnu", .zig = "aarch64-linux-gnu.2.17", .lib = "libruvector.so" },
    .{ .name = "linux-x64-musl", .rust = "x86_64-unknown-linux-musl", .zig = "x86_64-linux-musl", .lib = "libruvector.so" },
    .{ .name = "linux-arm64-musl", .rust = "aarch64-unknown-linux-musl", .zig = "aarch64-linux-musl", .lib = "libruvector.so" },
    .{ .name = "darwin-x64", .rust = "x86_64-apple-darwin", .zig = "x86_64-macos.11.0", .lib = "libruvector.dylib" },
    .{ .name = "darwin-arm64", .rust = "aarch64-apple-darwin", .zig = "aarch64-macos.11.0", .lib = "libruvector.dylib" },
    .{ .name = "win32-x64", .rust = "x86_64-pc-windows-gnu", .zig = "x86_64-windows-gnu", .lib = "ruvector.dll" },
};

fn findTarget(name: []const u8) ?Target {
    for (targets) |t| if (std.mem.eql(u8, t.name, name)) return t;
    return null;
}

fn linkerEnvName(b: *std.Build, rust: []const u8) []const u8 {
    const upper = b.allocator.alloc(u8, rust.len) catch @panic("OOM");
    for (rust, 0..) |c, i| upper[i] = if (c == '-') '_' else std.ascii.toUpper(c);
    return b.fmt("CARGO_TARGET_{s}_LINKER", .{upper});
}

pub fn build(b: *std.Build) void {
    const name = b.option([]const u8, "target-name", "npm platform key to build (default linux-x64-gnu)") orelse "linux-x64-gnu";
    const target = findTarget(name) orelse std.debug.panic("unknown target-name {s}", .{name});

    const cargo = b.addSystemCommand(&.{ "cargo", "build", "--release", "--lib", "--target", target.rust, "--manifest-path", "libruvector/Cargo.toml" });
    cargo.setEnvironmentVariable(linkerEnvName(b, target.rust), "scripts/zig-cc");
    cargo.setEnvironmentVariable("RUV_ZIG_TARGET", target.zig);
    cargo.setEnvironmentVariable("RUV_ZIG", b.graph.zig_exe);
    cargo.has_side_effects = true;

    const artifact = b.fmt("libruvector/target/{s}/release/{s}", .{ target.rust, target.lib });
    const copy = b.addSystemCommand(&.{ "cp", artifact, b.fmt("npm/bun-{s}/{s}", .{ target.name, target.lib }) });
    copy.step.dependOn(&cargo.step);
    copy.has_side_effects = true;
    b.getInstallStep().dependOn(&copy.step);

    const header = b.addSystemCommand(&.{ "cbindgen", "--quiet", "--config", "libruvector/cbindgen.toml", "--crate", "libruvector", "--output", "libruvector/include/ruvector.h", "libruvector" });
    header.has_side_effects = true;
    b.step("header", "Regenerate the C header with cbindgen").dependOn(&header.step);
    b.getInstallStep().dependOn(&header.step);
}
