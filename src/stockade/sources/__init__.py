"""Where manifests come from: files, directories, stdin, and (read-only) live clusters."""
