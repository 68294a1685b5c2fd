"""Recording Kalshi's order-book feed into replayable history (``kalshi-core record``).

:mod:`.format` is the file format (written, read, checked); :mod:`.recorder` subscribes to the
feed and writes it. The local exchange replays a recording through the ``recorded_l2`` history
loader (:mod:`kalshi_core.exchange.loaders.recorded_l2`).
"""
