"""Which functions and queues have items, and on which UTC days: so readers skip empty day buckets.

One small item per (kind, name): `pk` = kind (`FN` functions with spans, `FNI` functions with
invocation records, `DQ` dead-letter queues), `sk` = name, `d0`/`d1` = first and last day
with data. A writer updates it only when it meets a day outside the range it already wrote
(about once a day per function and process), so the registry costs nothing per span, yet a
listing of a quiet service walks only the days that have data instead of the whole lookback.
"""

from __future__ import annotations

from hoptrace_collector.store.dynamodb_io import DynamoCalls

SPANS, INVOCATIONS, QUEUES = "FN", "FNI", "DQ"


class Registry:
    def __init__(self, io: DynamoCalls) -> None:
        self.io = io
        self._written: dict[tuple[str, str], tuple[int, int]] = {}

    def note(self, kind: str, name: str, day_number: int) -> None:
        """Record that `name` has data on `day_number` (no call when this process already did)."""
        known = self._written.get((kind, name))
        if known is not None and known[0] <= day_number <= known[1]:
            return
        key = {"pk": {"S": kind}, "sk": {"S": name}}
        day_value = {":d": {"N": str(day_number)}}
        stored = self.io.call("update_item", TableName=self.io.table, Key=key, ReturnValues="ALL_NEW",
                              UpdateExpression="SET d0 = if_not_exists(d0, :d), d1 = if_not_exists(d1, :d)",
                              ExpressionAttributeValues=day_value)["Attributes"]
        first, last = int(stored["d0"]["N"]), int(stored["d1"]["N"])
        if day_number < first:
            self.io.conditional("update_item", TableName=self.io.table, Key=key, UpdateExpression="SET d0 = :d",
                                ConditionExpression="d0 > :d", ExpressionAttributeValues=day_value)
        if day_number > last:
            self.io.conditional("update_item", TableName=self.io.table, Key=key, UpdateExpression="SET d1 = :d",
                                ConditionExpression="d1 < :d", ExpressionAttributeValues=day_value)
        self._written[(kind, name)] = (min(first, day_number), max(last, day_number))

    def entries(self, kind: str) -> dict[str, tuple[int, int]]:
        """name -> (first day, last day) of every registered name of this kind."""
        items = self.io.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": kind}})
        return {i["sk"]["S"]: (int(i["d0"]["N"]), int(i["d1"]["N"])) for i in items if "d0" in i}

    def days(self, kind: str, names: list[str] | None, first: int, last: int) -> range:
        """The days between `first` and `last` (newest first) on which any of `names` (None: any) has data."""
        entries = self.entries(kind)
        ranges: list[tuple[int, int]] = list(entries.values()) if names is None else [
            entries[n] for n in names if n in entries]
        if not ranges:
            return range(0)
        return range(min(last, max(r[1] for r in ranges)), max(first, min(r[0] for r in ranges)) - 1, -1)

    def forget(self, kind: str, name: str) -> None:
        self.io.call("delete_item", TableName=self.io.table, Key={"pk": {"S": kind}, "sk": {"S": name}})
        self._written.pop((kind, name), None)

    def narrow(self, kind: str, name: str, first_day: int) -> None:
        """After retention: nothing of `name` remains before `first_day`."""
        self.io.conditional("update_item", TableName=self.io.table, Key={"pk": {"S": kind}, "sk": {"S": name}},
                            UpdateExpression="SET d0 = :d", ConditionExpression="d0 < :d",
                            ExpressionAttributeValues={":d": {"N": str(first_day)}})
        self._written.pop((kind, name), None)
