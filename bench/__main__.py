"""`python -m bench [name ...]`: run benchmarks (all by default), then rewrite docs/benchmarks.md."""

import importlib
import sys

from bench import report
from bench.common import peak_rss_mb, reset_peak_rss, save

ALL = ["suggestions", "issuance", "qr_images", "prints", "redemption", "webhooks", "settlement", "growth"]

names = [a for a in sys.argv[1:] if not a.startswith("-")] or ALL
for name in names:
    print(f"== {name}", flush=True)
    module = importlib.import_module(f"bench.{name}")
    reset_peak_rss()
    result = module.run()
    save(name, {**result, "process_peak_rss_mb": peak_rss_mb()})
report.write()
print("wrote docs/benchmarks.md")
