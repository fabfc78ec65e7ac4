"""`python -m bench [name ...]`: run benchmarks (all by default), then rewrite docs/benchmarks.md."""

import importlib
import sys

from bench import report
from bench.common import save

ALL = ["suggestions", "issuance", "qr_images", "redemption", "settlement"]

names = [a for a in sys.argv[1:] if not a.startswith("-")] or ALL
for name in names:
    print(f"== {name}", flush=True)
    module = importlib.import_module(f"bench.{name}")
    save(name, module.run())
report.write()
print("wrote docs/benchmarks.md")
