"""What happened, announced with blinker signals. Metrics, the audit trail and alerts subscribe.

Senders pass the object the signal is about as ``sender`` and details as keyword arguments.
Nothing but these subscribers acts on side effects: the trading loop never calls an alerter
or a metric directly.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

decision_made = _signals.signal("decision_made", doc="The pipeline finished one market.")
decision_rejected = _signals.signal("decision_rejected", doc="A validator rejected a market.")
forecast_made = _signals.signal("forecast_made", doc="A forecaster returned a probability.")
forecast_rejected = _signals.signal(
    "forecast_rejected",
    doc="A forecaster call gave no forecast (refusal, bad output, error, budget); "
    "sender is the forecaster, ``rejection`` the record of why.",
)
order_placed = _signals.signal("order_placed", doc="The venue acknowledged an order.")
order_rejected = _signals.signal("order_rejected", doc="The venue or risk refused an order.")
order_canceled = _signals.signal("order_canceled", doc="A resting order was canceled.")
order_filled = _signals.signal("order_filled", doc="One of our orders traded (one fill).")
order_unknown = _signals.signal(
    "order_unknown", doc="An order write's outcome is unknown until reconciled."
)
position_closed = _signals.signal("position_closed", doc="A position went back to zero.")
market_settled = _signals.signal("market_settled", doc="A market we held settled.")
risk_limit_hit = _signals.signal("risk_limit_hit", doc="A risk rule blocked or stopped trading.")
cycle_started = _signals.signal("cycle_started", doc="One trading cycle began.")
cycle_completed = _signals.signal("cycle_completed", doc="One trading cycle ended.")
ai_spend = _signals.signal("ai_spend", doc="A model call cost money (tokens, cost).")
run_finishing = _signals.signal(
    "run_finishing",
    doc="The run's loop ended; the final reconciliation follows and must read the venue itself.",
)
cycle_failed = _signals.signal(
    "cycle_failed", doc="A cycle was skipped: the venue failed a read past its retries."
)
anomaly_detected = _signals.signal(
    "anomaly_detected",
    doc="A monitor saw the bot behave unusually; sender is the detector, ``anomaly`` the finding.",
)
stop_changed = _signals.signal(
    "stop_changed",
    doc="The graded stop level changed (pause entries, cancel resting, flatten, stop); "
    "sender is the controller, ``level`` and ``previous`` the level names, ``reason`` why.",
)
market_data_switched = _signals.signal(
    "market_data_switched",
    doc="Market data moved between the stream and REST polling; ``mode`` is the new one "
    "(``stream`` or ``poll``), ``reason`` why.",
)

ALL = (
    decision_made,
    decision_rejected,
    forecast_made,
    forecast_rejected,
    order_placed,
    order_rejected,
    order_canceled,
    order_filled,
    order_unknown,
    position_closed,
    market_settled,
    risk_limit_hit,
    cycle_started,
    cycle_completed,
    cycle_failed,
    ai_spend,
    anomaly_detected,
    stop_changed,
    market_data_switched,
)
