# Convenience targets; the README's two commands (scripts/demo.sh, scripts/test.sh) need no make.
.PHONY: demo test bench bench-smoke screenshots

demo:
	./scripts/demo.sh

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

bench-smoke:
	./scripts/bench.sh --smoke

screenshots:
	./scripts/bench.sh --screenshots
