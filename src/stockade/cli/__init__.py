"""The command line: argv -> sources -> engine -> render. Thin by design."""
