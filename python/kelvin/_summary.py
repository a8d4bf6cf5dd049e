"""Job summaries: the C++ Summary's fields as attributes, ``str()`` its brief report.

The fields are exactly the object ``kelvin <command> --json`` prints as ``"summary"`` (one list of
fields in C++ feeds both), with the same snake_case keys; keys carry their unit
(``device_time_s``, ``energy.total_j``). Groups (``energy``, ``block``) are nested Summaries.
"""


class Summary:
    """A job's summary. Fields are attributes (``summary.device_time_s``) and items
    (``summary["device_time_s"]``); ``str(summary)`` is the brief report,
    ``summary.full_report()`` the full one, ``summary.to_dict()`` a plain dict."""

    __slots__ = ("_kind", "_fields", "_brief", "_full")

    def __init__(self, kind, fields, brief, full=None):
        self._kind = kind
        self._fields = dict(fields)
        self._brief = brief
        self._full = full

    def __getattr__(self, name):
        try:
            value = self._fields[name]
        except KeyError:
            raise AttributeError(
                f"{self._kind} has no field {name!r}; fields: {', '.join(self._fields)}"
            ) from None
        if isinstance(value, dict):
            return Summary(name, value, value.get("brief", ""), None)
        return value

    def __getitem__(self, name):
        return self.__getattr__(name)

    def __contains__(self, name):
        return name in self._fields

    def __dir__(self):
        return list(self._fields) + ["to_dict", "keys", "brief_report", "full_report", "kind"]

    @property
    def kind(self):
        """The C++ class this summarizes ("SolveSummary", ...)."""
        return self._kind

    def keys(self):
        return self._fields.keys()

    def to_dict(self):
        """Every field, groups as nested dicts (what the CLI's JSON "summary" holds)."""
        return dict(self._fields)

    def brief_report(self):
        return self._brief

    def full_report(self):
        """Every field with its unit and meaning, one per line (the C++ full report)."""
        return self._full if self._full is not None else self._brief

    def __str__(self):
        return self._brief

    def __repr__(self):
        return f"<kelvin.{self._kind}: {self._brief}>"
