"""EventBridge schedule expressions (`rate(...)`, `cron(...)`, UTC) and the thread that fires them."""

from __future__ import annotations

import calendar
import heapq
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("hoptrace.localcloud")

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


class ScheduleError(ValueError):
    pass


_NEVER = 10 * 366 * 86400.0  # a one-time schedule that has fired waits "forever" (a finite wait for Condition)


def at_seconds(expression: str) -> float:
    """Epoch seconds of a one-time `at(yyyy-mm-ddThh:mm:ss)` schedule (UTC)."""
    match = re.match(r"^at\((\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\)$", expression.strip())
    if not match:
        raise ScheduleError(f"{expression!r}: a one-time schedule is at(yyyy-mm-ddThh:mm:ss)")
    return float(calendar.timegm((*(int(part) for part in match.groups()), 0, 0, 0)))


def rate_seconds(expression: str) -> float | None:
    """Seconds between fires of a rate expression, None if it is not one."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).rstrip("s")]


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """Values a cron field allows; None stands for "any" (`*` or `?`)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        bare = part.upper()
        for name in names or {}:
            bare = bare.replace(name.upper(), "")
        if re.search(r"[LW#]", bare):
            raise ScheduleError(f"cron field {text!r}: L, W and # are not supported locally")
        part_range, _, step = part.partition("/")
        if part_range == "*":
            start, end = low, high
        else:
            first, _, last = part_range.partition("-")
            start = _value(first, names)
            end = _value(last, names) if last else (high if step else start)
        values.update(range(start, end + 1, int(step or 1)))
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron value {text!r} is not a number or a known name")
    return int(text)


@dataclass
class Cron:
    minutes: set[int] | None
    hours: set[int] | None
    days: set[int] | None
    months: set[int] | None
    weekdays: set[int] | None  # 1 = Sunday, as in EventBridge
    years: set[int] | None

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = re.match(r"^cron\((.+)\)$", expression.strip())
        fields = match.group(1).split() if match else []
        if len(fields) != 6:
            raise ScheduleError(f"{expression!r}: a cron expression has 6 fields "
                                "(minutes hours day-of-month month day-of-week year)")
        return cls(_field(fields[0], 0, 59), _field(fields[1], 0, 23), _field(fields[2], 1, 31),
                   _field(fields[3], 1, 12, _MONTHS), _field(fields[4], 1, 7, _DAYS),
                   _field(fields[5], 1970, 2199))

    def _day_matches(self, t: time.struct_time) -> bool:
        weekday = (t.tm_wday + 1) % 7 + 1  # Python: Monday=0 -> EventBridge: Sunday=1
        return all(allowed is None or value in allowed for allowed, value in (
            (self.days, t.tm_mday), (self.months, t.tm_mon), (self.weekdays, weekday), (self.years, t.tm_year)))

    def next_after(self, after: float) -> float:
        """The first whole minute strictly after `after` (epoch seconds, UTC) the expression matches."""
        candidate = (int(after) // 60 + 1) * 60
        limit = candidate + 5 * 366 * 86400
        while candidate < limit:
            t = time.gmtime(candidate)
            if not self._day_matches(t):
                candidate = (candidate // 86400 + 1) * 86400
                continue
            if (self.hours is None or t.tm_hour in self.hours) and (self.minutes is None or t.tm_min in self.minutes):
                return float(candidate)
            candidate += 60
        raise ScheduleError("the cron expression never fires in the next five years")


def next_fire_function(expression: str, time_scale: float = 1.0) -> Callable[[float], float]:
    """A function from "now" to the next fire time; rates are scaled by `time_scale`, crons are not."""
    seconds = rate_seconds(expression)
    if seconds is not None:
        return lambda now: now + seconds * time_scale
    if expression.strip().startswith("at("):
        when = at_seconds(expression)
        return lambda now: when if now < when else now + _NEVER

    cron = Cron.parse(expression)
    return cron.next_after


class Scheduler:
    """Fires callbacks at their schedules from one thread that sleeps until the next due time."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[float], float], Callable[[], None]]] = []
        self._seq = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def add(self, next_fire: Callable[[float], float], fire: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._heap, (next_fire(time.time()), next(self._seq), next_fire, fire))
            self._changed.notify()

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with self._changed:
            while not self._stopped:
                if not self._heap:
                    self._changed.wait()
                    continue
                due, _, next_fire, fire = self._heap[0]
                wait = due - time.time()
                if wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heapreplace(self._heap, (next_fire(max(due, time.time())), next(self._seq), next_fire, fire))
                try:
                    fire()
                except Exception:
                    logger.exception("a scheduled event could not be delivered")

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join(5)
