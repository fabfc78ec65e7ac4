"""What the merchants domain tells the others, without importing them: a merchant was registered
or changed (its profile or status), inside the unit of work that changed it.

`merchant_changed.send(merchant, session=…)`; the partner search index listens
(`exchange.partners.search_index`) and rewrites the merchant's entries in the same transaction.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()
merchant_changed = _signals.signal("merchant-changed")
