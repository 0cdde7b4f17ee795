import Foundation
import PackagePlugin

/// Writes `GitCommit.swift` into the target's build, defining `gitCommit`: the commit of the package's
/// git checkout at build time (`-dirty` with uncommitted changes to tracked files), or `unknown` when the
/// package is not a git checkout of its own (a tarball, git missing). Reports record it as provenance.
///
/// A prebuild command runs before every build, so the commit is never stale; the script rewrites the
/// file only when its text changes, so an unchanged commit recompiles nothing.
@main
struct GitCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder = context.pluginWorkDirectoryURL.appending(path: "generated")
        // The checkout must be the package's own: a tarball unpacked inside another repository is "unknown".
        let script = """
            set -u
            package="$1"; out="$2/GitCommit.swift"; mkdir -p "$2"
            commit=unknown
            top=$(git -C "$package" rev-parse --show-toplevel 2>/dev/null) || top=
            if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$package" && pwd -P)" ]; then
                commit=$(git -C "$package" rev-parse HEAD 2>/dev/null) || commit=unknown
                if [ "$commit" != unknown ] && [ -n "$(git -C "$package" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                    commit="$commit-dirty"
                fi
            fi
            text="/// The git commit BMRUKit was built from (written by the GitCommit build plugin).
            let gitCommit = \\"$commit\\""
            [ -f "$out" ] && [ "$(cat "$out")" = "$text" ] || printf '%s\\n' "$text" > "$out"
            """
        return [.prebuildCommand(displayName: "Record the git commit", executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, "sh", context.package.directoryURL.path, folder.path],
                                 outputFilesDirectory: folder)]
    }
}
