#!/usr/bin/env python3
"""Reference implementation ("oracle") of the TagStream product contract, /work/shared/SPEC.md.

Written for differential testing of the Swift engine: plain Python 3.11, standard library
only, slow and straightforward on purpose. Every rule is spelled out once, near the SPEC
words it implements.

    spec_oracle.py --out DIR [--until T] [--lateness-ms 300000] FILE [FILE...]

Each FILE is one input partition (JSONL, gzip when the name ends in .gz), replayed in the
order of SPEC section 3. T is epoch milliseconds or RFC 3339. DIR receives tags.jsonl,
alerts.jsonl, coupons.jsonl, community_stats.jsonl (one record per line, SPEC section 2)
and summary.json (counts by outcome: accepted, dead_letter, duplicate, late, ignored).

How it works, in two passes:
1. Intake: read the partitions record by record, always from the partition whose
   watermark is lowest (ties: the earlier file), and classify every record as dead letter,
   ignored, duplicate, late or accepted (in that order of checks, SPEC section 5).
2. Simulation: since outputs depend only on the accepted events, sort them by
   (ts, event_id) and walk event time instant by instant: at each instant T first the
   events with ts = T, then the timers due at T (by user_id), then, at a UTC midnight,
   the daily refresh (SPEC section 3 and section 4, the community-grocery pipeline).
"""
import argparse
import bisect
import datetime
import decimal
import gzip
import heapq
import json
import os
import re
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

KNOWN_TYPES = {"app_open", "view", "click", "search", "add_to_cart", "remove_from_cart",
               "share", "coupon_claim", "order_paid", "order_refunded"}
ORDER_TYPES = {"order_paid", "order_refunded"}
STRING_FIELDS = ("community_id", "leader_id", "session_id", "sku", "category", "query",
                 "referrer_id", "order_id", "coupon_id")
NUMBER_FIELDS = ("price", "amount", "discount")
QUALITY_WORDS = ("organic", "imported", "有机", "进口")
# SPEC leaves the range of amounts open; the engine keeps money exact in millionths in 64 bits
# and dead-letters an order amount beyond that (reason amount_out_of_range).
LARGEST_AMOUNT = Decimal(2**63 - 1) / 1_000_000

# Exact money: additions of decimals never round.
decimal.getcontext().prec = decimal.MAX_PREC
decimal.getcontext().Emax = decimal.MAX_EMAX
decimal.getcontext().Emin = decimal.MIN_EMIN


# ============================================================================ decoding
class DeadLetter(Exception):
    """A record that goes to the dead-letter output; `reason` is machine-readable."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Event:
    """One decoded, valid input event (only the fields the pipeline reads)."""
    __slots__ = ("event_id", "type", "user_id", "ts", "community_id", "query", "amount",
                 "has_coupon", "items")

    def __init__(self, obj, ts):
        self.event_id, self.type, self.user_id = obj["event_id"], obj["type"], obj["user_id"]
        self.ts = ts
        self.community_id = obj.get("community_id")
        self.query = obj.get("query")
        amount = obj.get("amount")
        self.amount = None if amount is None else Decimal(amount)
        coupon = obj.get("coupon_id")
        self.has_coupon = isinstance(coupon, str) and coupon != ""
        # items as (sku or None, category or None, qty as Decimal; a missing qty is 0)
        self.items = tuple((it.get("sku"), it.get("category"),
                            Decimal(0) if it.get("qty") is None else Decimal(it["qty"]))
                           for it in (obj.get("items") or ()))


RFC3339 = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                     r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
SURROGATE = re.compile("[\ud800-\udfff]")


def parse_rfc3339(text):
    """Epoch ms of an RFC 3339 date-time, fraction digits beyond ms truncated; None if invalid."""
    m = RFC3339.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, zulu, sign, off_h, off_m = m.groups()[6:]
    try:
        days = datetime.date(year, month, day).toordinal() - EPOCH_ORDINAL
    except ValueError:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset_min = 0
    if not zulu:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset_min = (int(off_h) * 60 + int(off_m)) * (1 if sign == "+" else -1)
    ms = int((frac or "")[:3].ljust(3, "0"))
    secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60
    return secs * 1000 + ms


def parse_ts(value):
    """`ts` is a JSON integer (epoch ms) or an RFC 3339 string; anything else is invalid."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        ts = parse_rfc3339(value)
        if ts is not None:
            return ts
    raise DeadLetter("bad_ts")


def is_number(value):
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def reject_constant(name):
    raise ValueError(f"not JSON: {name}")


JSON = json.JSONDecoder(parse_float=Decimal, parse_constant=reject_constant)


def check_unicode(value):
    """Strings (keys too) must be valid Unicode: no lone surrogates from \\u escapes."""
    if isinstance(value, str):
        if SURROGATE.search(value):
            raise DeadLetter("invalid_unicode")
    elif isinstance(value, list):
        for v in value:
            check_unicode(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_unicode(k)
            check_unicode(v)


def check_items(items):
    if not isinstance(items, list):
        raise DeadLetter("bad_type_items")
    for item in items:
        if not isinstance(item, dict):
            raise DeadLetter("bad_type_items")
        for f in ("sku", "category"):
            if item.get(f) is not None and not isinstance(item[f], str):
                raise DeadLetter(f"bad_type_item_{f}")
        for f in ("qty", "price"):
            if item.get(f) is not None and not is_number(item[f]):
                raise DeadLetter(f"bad_type_item_{f}")


def decode(raw):
    """Bytes of one line -> Event, or raise DeadLetter (SPEC sections 1 and 5)."""
    try:
        obj = JSON.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DeadLetter("invalid_json") from None
    check_unicode(obj)
    if not isinstance(obj, dict):
        raise DeadLetter("not_object")
    for f in ("event_id", "type", "user_id"):
        v = obj.get(f)
        if v is None:
            raise DeadLetter(f"missing_{f}")
        if not isinstance(v, str):
            raise DeadLetter(f"bad_type_{f}")
        if v == "":
            raise DeadLetter(f"empty_{f}")
    if obj.get("ts") is None:
        raise DeadLetter("missing_ts")
    ts = parse_ts(obj["ts"])
    for f in STRING_FIELDS:
        if obj.get(f) is not None and not isinstance(obj[f], str):
            raise DeadLetter(f"bad_type_{f}")
    for f in NUMBER_FIELDS:
        if obj.get(f) is not None and not is_number(obj[f]):
            raise DeadLetter(f"bad_type_{f}")
    if obj.get("items") is not None:
        check_items(obj["items"])
    if obj["type"] in ORDER_TYPES:
        if obj.get("amount") is None:
            raise DeadLetter("missing_amount")
        if abs(obj["amount"]) > LARGEST_AMOUNT:
            raise DeadLetter("amount_out_of_range")
        if obj["amount"] < 0:
            raise DeadLetter("negative_amount")
        if not obj.get("order_id"):
            raise DeadLetter("missing_order_id")
    return Event(obj, ts)


# ============================================================================ intake
def lines_of(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        yield from f


def intake(paths, lateness):
    """Read the partitions in SPEC order and classify each record.

    Returns (accepted events in arrival order, counts, dead-letter reasons)."""
    counts = dict.fromkeys(("accepted", "dead_letter", "duplicate", "late", "ignored"), 0)
    reasons = Counter()
    readers = [lines_of(p) for p in paths]
    max_ts = [None] * len(paths)          # largest accepted ts per partition
    live = list(range(len(paths)))        # partitions not finished yet
    seen = {}                             # event_id -> largest ts accepted with that id
    top = None                            # largest ts accepted so far, over all partitions
    accepted = []

    def watermark(p):
        return float("-inf") if max_ts[p] is None else max_ts[p] - lateness

    while live:
        p = min(live, key=lambda i: (watermark(i), i))   # the one holding the engine back
        raw = next(readers[p], None)
        if raw is None:
            live.remove(p)
            continue
        if not raw.strip(b" \t\r\n"):
            continue                                     # blank line: skipped, not counted
        try:
            ev = decode(raw)
        except DeadLetter as dl:
            counts["dead_letter"] += 1
            reasons[dl.reason] += 1
            continue
        if ev.type not in KNOWN_TYPES:
            counts["ignored"] += 1
        elif ev.event_id in seen and seen[ev.event_id] > top - 7 * DAY:
            counts["duplicate"] += 1
        elif ev.ts < watermark(p):
            counts["late"] += 1
        else:
            counts["accepted"] += 1
            seen[ev.event_id] = max(seen.get(ev.event_id, ev.ts), ev.ts)
            max_ts[p] = ev.ts if max_ts[p] is None else max(max_ts[p], ev.ts)
            top = ev.ts if top is None else max(top, ev.ts)
            accepted.append(ev)
    return accepted, counts, reasons


# ============================================================================ pipeline
def in_window(ts_list, t, width):
    """Index range of the sorted ts_list inside the window (t - width, t]."""
    return bisect.bisect_right(ts_list, t - width), bisect.bisect_right(ts_list, t)


def fnv1a64(text):
    h = 0xcbf29ce484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def holdout(campaign, user_id):
    return fnv1a64(f"{campaign}:{user_id}") % 100 < 10


class User:
    """Per-user state; the ts lists are sorted because events are applied in ts order."""

    def __init__(self, user_id):
        self.user_id = user_id
        self.community = None                   # community_id of the latest event carrying one
        self.paid_ts, self.paid_amount, self.paid_coupon = [], [], []
        self.refund_ts, self.refund_amount = [], []
        self.baby_ts = []                       # order_paid with an item of category baby
        self.quality_search_ts = []             # searches for organic / imported / ...
        self.tags = {}                          # group -> tag (None = no tag)
        self.last_wake_up = None
        self.last_cart_rescue = None
        self.vip_due = None                     # the pending vip_churn_risk instant

    def spend_90d(self, t):
        """(spend_90d(t), orders_90d(t), coupon_orders_90d(t))."""
        lo, hi = in_window(self.paid_ts, t, 90 * DAY)
        rlo, rhi = in_window(self.refund_ts, t, 90 * DAY)
        spend = sum(self.paid_amount[lo:hi], Decimal(0)) - sum(self.refund_amount[rlo:rhi], Decimal(0))
        return spend, hi - lo, sum(self.paid_coupon[lo:hi])


class Community:
    """Order events carrying this community_id (for gmv_30d, orders_7d, top_skus_7d)."""

    def __init__(self):
        self.paid_ts, self.paid = [], []        # paid: (amount, items)
        self.refund_ts, self.refund_amount = [], []
        self.prev_ratio = None                  # sleeping ratio at the previous refresh, if evaluated


def lifecycle(u, t):
    if not u.paid_ts:
        return "prospect"
    since = t - u.paid_ts[-1]
    if since >= 180 * DAY:
        return "churned"
    if since >= 90 * DAY:
        return "sleeping"
    if since >= 30 * DAY:
        return "at_risk"
    if t - u.paid_ts[0] < 30 * DAY:
        return "new"
    return "active"


def tier(u, t, thresholds):
    if not u.paid_ts:
        return None
    since = t - u.paid_ts[-1]
    spend = u.spend_90d(t)[0]
    if thresholds and spend >= thresholds[0] and since < 30 * DAY:
        return "platinum"
    if thresholds and spend >= thresholds[1] and since < 60 * DAY:
        return "gold"
    if since < 90 * DAY:
        return "silver"
    return None


def nearest_rank(sorted_values, q):
    """Nearest-rank percentile: index ceil(q * n) - 1, q a Fraction."""
    n = len(sorted_values)
    return sorted_values[-((-q.numerator * n) // q.denominator) - 1]


class Engine:
    """The community-grocery pipeline over accepted events in (ts, event_id) order."""

    def __init__(self):
        self.users = {}
        self.communities = {}
        self.thresholds = None                  # (p95, p75) of the latest refresh, or None
        self.timers = []                        # heap of (due, user_id, seq, kind, data)
        self.seq = 0
        self.out = {"tag": [], "alert": [], "coupon": [], "community_stats": []}

    # ---------------------------------------------------------------- output
    def emit(self, record):
        self.seq += 1
        key = record.get("user_id", record.get("community_id"))
        what = record.get("group") or record.get("alert") or record.get("campaign") or ""
        record["id"] = f"{record['kind']}:{record['ts']}:{key}:{what}:{self.seq}"
        self.out[record["kind"]].append(record)

    def set_tag(self, u, group, value, t, evidence):
        previous = u.tags.get(group)
        if previous == value:
            return False
        u.tags[group] = value
        self.emit({"kind": "tag", "user_id": u.user_id, "community_id": u.community,
                   "group": group, "tag": value, "previous": previous, "ts": t,
                   "evidence": evidence})
        return True

    def coupon(self, u, campaign, t):
        self.emit({"kind": "coupon", "campaign": campaign, "user_id": u.user_id,
                   "community_id": u.community, "ts": t,
                   "holdout": holdout(campaign, u.user_id)})

    def schedule(self, due, u, kind, data=None):
        self.seq += 1
        heapq.heappush(self.timers, (due, u.user_id, self.seq, kind, data))

    # ---------------------------------------------------------------- rules
    def eval_lifecycle(self, u, t):
        value = lifecycle(u, t)
        evidence = {"first_paid": u.paid_ts[0], "last_paid": u.paid_ts[-1]} if u.paid_ts else {}
        if self.set_tag(u, "lifecycle", value, t, evidence) and value == "sleeping":
            if u.last_wake_up is None or t - u.last_wake_up >= 60 * DAY:
                u.last_wake_up = t
                self.coupon(u, "wake_up", t)

    def eval_tier(self, u, t):
        self.set_tag(u, "tier", tier(u, t, self.thresholds), t,
                     {"spend_90d": str(u.spend_90d(t)[0]),
                      "thresholds": [str(x) for x in self.thresholds or ()]})

    def eval_flags(self, u, t):
        _, orders, coupon_orders = u.spend_90d(t)
        price_sensitive = orders >= 3 and 10 * coupon_orders >= 6 * orders
        lo, hi = in_window(u.baby_ts, t, 180 * DAY)
        family = hi > lo
        lo, hi = in_window(u.quality_search_ts, t, 30 * DAY)
        quality = hi - lo >= 2
        high_value = family and u.tags.get("tier") in ("platinum", "gold")
        for group, on in (("price_sensitive", price_sensitive), ("family_with_kids", family),
                          ("quality_seeker", quality), ("high_value_family", high_value)):
            self.set_tag(u, group, group if on else None, t, {})

    # ---------------------------------------------------------------- events
    def record_event(self, u, e):
        """Add the event to the user's and its community's history."""
        if e.community_id is not None:
            u.community = e.community_id
        c = None if e.community_id is None else self.communities.setdefault(e.community_id, Community())
        if e.type == "order_paid":
            u.paid_ts.append(e.ts)
            u.paid_amount.append(e.amount)
            u.paid_coupon.append(1 if e.has_coupon else 0)
            if any(category == "baby" for _, category, _ in e.items):
                u.baby_ts.append(e.ts)
            if c:
                c.paid_ts.append(e.ts)
                c.paid.append((e.amount, e.items))
        elif e.type == "order_refunded":
            u.refund_ts.append(e.ts)
            u.refund_amount.append(e.amount)
            if c:
                c.refund_ts.append(e.ts)
                c.refund_amount.append(e.amount)
        elif e.type == "search" and e.query is not None:
            query = e.query.lower()
            if any(word in query for word in QUALITY_WORDS):
                u.quality_search_ts.append(e.ts)

    def apply_event(self, e):
        u = self.users.get(e.user_id)
        if u is None:
            u = self.users[e.user_id] = User(e.user_id)
        t = e.ts
        self.record_event(u, e)
        self.eval_lifecycle(u, t)
        if e.type in ORDER_TYPES:
            self.eval_tier(u, t)
        self.eval_flags(u, t)
        if e.type == "order_paid":
            self.after_paid(u, t)
        elif e.type == "add_to_cart":
            self.schedule(t + 2 * HOUR, u, "cart_rescue", t)

    def after_paid(self, u, t):
        if len(u.paid_ts) == 1:
            self.coupon(u, "second_order", t)
        for due in (u.paid_ts[0] + 30 * DAY, t + 30 * DAY, t + 90 * DAY, t + 180 * DAY):
            if due > t:
                self.schedule(due, u, "lifecycle")
        u.vip_due = None
        if len(u.paid_ts) >= 3:
            last = u.paid_ts[-5:]
            k = len(last)
            gap2 = -((-2 * (last[-1] - last[0])) // (k - 1))      # ceil(2 * mean gap)
            u.vip_due = t + max(14 * DAY, gap2)
            self.schedule(u.vip_due, u, "vip_churn_risk")

    # ---------------------------------------------------------------- timers
    def fire(self, t, user_id, kind, data):
        u = self.users[user_id]
        if kind == "lifecycle":
            self.eval_lifecycle(u, t)
        elif kind == "cart_rescue":
            added = data
            paid_since = bisect.bisect_left(u.paid_ts, added) < len(u.paid_ts)   # paid in [a, T]
            cooled = u.last_cart_rescue is None or u.last_cart_rescue <= t - 24 * HOUR
            if not paid_since and cooled:
                u.last_cart_rescue = t
                self.coupon(u, "cart_rescue", t)
        elif kind == "vip_churn_risk":
            if u.vip_due == t:
                u.vip_due = None
                current = u.tags.get("tier")
                if current in ("platinum", "gold"):
                    self.emit({"kind": "alert", "alert": "vip_churn_risk", "user_id": u.user_id,
                               "community_id": u.community, "ts": t,
                               "evidence": {"tier": current, "last_paid": u.paid_ts[-1],
                                            "orders": len(u.paid_ts)}})

    # ---------------------------------------------------------------- daily refresh
    def refresh(self, m):
        spends = []
        for u in self.users.values():
            spend, orders, _ = u.spend_90d(m)
            if orders >= 1 and spend > 0:
                spends.append(spend)
        spends.sort()
        self.thresholds = None
        if len(spends) >= 20:
            self.thresholds = (nearest_rank(spends, Fraction(95, 100)),
                               nearest_rank(spends, Fraction(75, 100)))
        for user_id in sorted(self.users):
            u = self.users[user_id]
            self.eval_tier(u, m)
            self.eval_flags(u, m)
        self.community_refresh(m)

    def community_refresh(self, m):
        members = {}
        for u in self.users.values():
            if u.community is not None and u.paid_ts:
                members.setdefault(u.community, []).append(u)
        for cid in sorted(self.communities):
            c = self.communities[cid]
            customers = members.get(cid, [])
            n = len(customers)
            ratio = None
            if n >= 1:
                sleeping = sum(1 for u in customers if u.tags.get("lifecycle") in ("sleeping", "churned"))
                ratio = Fraction(sleeping, n)
                self.emit(self.community_stats(cid, c, m, customers, ratio))
            if n >= 20:
                if ratio >= Fraction(3, 10) and (c.prev_ratio is None or c.prev_ratio < Fraction(3, 10)):
                    self.emit({"kind": "alert", "alert": "community_sleeping_ratio_high",
                               "community_id": cid, "ts": m,
                               "evidence": {"customers": n, "sleeping_ratio": float(ratio)}})
                c.prev_ratio = ratio
            else:
                c.prev_ratio = None

    def community_stats(self, cid, c, m, customers, ratio):
        lo, hi = in_window(c.paid_ts, m, 30 * DAY)
        rlo, rhi = in_window(c.refund_ts, m, 30 * DAY)
        gmv = sum((amount for amount, _ in c.paid[lo:hi]), Decimal(0)) \
            - sum(c.refund_amount[rlo:rhi], Decimal(0))
        lo, hi = in_window(c.paid_ts, m, 7 * DAY)
        qty = {}
        for _, items in c.paid[lo:hi]:
            for sku, _, q in items:
                if sku is not None:
                    qty[sku] = qty.get(sku, Decimal(0)) + q
        top = sorted(qty.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return {"kind": "community_stats", "community_id": cid, "ts": m,
                "customers": len(customers),
                "active_30d": sum(1 for u in customers if u.paid_ts[-1] > m - 30 * DAY),
                "gmv_30d": gmv, "orders_7d": hi - lo, "sleeping_ratio": ratio,
                "top_skus_7d": [{"sku": sku, "qty": q} for sku, q in top]}

    # ---------------------------------------------------------------- time
    def run(self, events, end):
        """Apply events (sorted by (ts, event_id), all <= end) and fire timers and
        refreshes up to `end`, instant by instant."""
        i = 0
        midnight = -((-events[0].ts) // DAY) * DAY if events else None   # first refresh
        while True:
            instants = [x for x in (events[i].ts if i < len(events) else None,
                                    self.timers[0][0] if self.timers else None,
                                    midnight) if x is not None]
            if not instants or min(instants) > end:
                break
            t = min(instants)
            while i < len(events) and events[i].ts == t:
                self.apply_event(events[i])
                i += 1
            while self.timers and self.timers[0][0] == t:
                _, user_id, _, kind, data = heapq.heappop(self.timers)
                self.fire(t, user_id, kind, data)
            if t == midnight:
                self.refresh(t)
                midnight += DAY


# ============================================================================ output
def money(d):
    text = format(d, "f")
    return "0" if d == 0 else text


def dumps(value):
    """JSON text; Decimals exactly as decimal numbers, Fractions as floats."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{dumps(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, Fraction):
        return json.dumps(float(value))
    return json.dumps(value, ensure_ascii=False)


def parse_until(text):
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    ts = parse_rfc3339(text)
    if ts is None:
        sys.exit(f"--until: not epoch ms or RFC 3339: {text}")
    return ts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--until", type=parse_until, help="replay up to T (epoch ms or RFC 3339)")
    ap.add_argument("--lateness-ms", type=int, default=300_000, help="allowed out-of-orderness")
    ap.add_argument("files", nargs="+", help="input partitions (.jsonl or .jsonl.gz)")
    args = ap.parse_args(argv)

    accepted, counts, reasons = intake(args.files, args.lateness_ms)
    events = sorted(accepted, key=lambda e: (e.ts, e.event_id))     # stable: ties by arrival
    if args.until is not None:
        events = [e for e in events if e.ts <= args.until]
        end = args.until
    else:
        end = events[-1].ts if events else None
    engine = Engine()
    if end is not None:
        engine.run(events, end)

    os.makedirs(args.out, exist_ok=True)
    names = {"tag": "tags", "alert": "alerts", "coupon": "coupons", "community_stats": "community_stats"}
    for kind, name in names.items():
        with open(os.path.join(args.out, f"{name}.jsonl"), "w", encoding="utf-8") as f:
            for record in engine.out[kind]:
                f.write(dumps(record) + "\n")
    summary = dict(counts, applied=len(events), users=len(engine.users),
                   records={k: len(v) for k, v in engine.out.items()},
                   dead_letter_reasons=dict(sorted(reasons.items())))
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
