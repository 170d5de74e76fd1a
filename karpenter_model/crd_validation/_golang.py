"""Ports of the Go parsers the Karpenter controller decodes spec strings with.

The API server only checks a CRD's patterns; the controller then decodes the stored strings with
Go's own parsers, which are stricter in places (and looser in others) than those patterns. Each
function here mirrors one Go function line by line and returns the Go error text, or None when Go
would accept the value. Checked against the Go originals (time.ParseDuration, apimachinery
resource.ParseQuantity, robfig/cron/v3 ParseStandard) on a few hundred inputs.
"""

from __future__ import annotations

import re

# time.ParseDuration ---------------------------------------------------------------------------

_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_MAX_DURATION = 1 << 63


def go_duration_error(text: str) -> str | None:
    """time.ParseDuration: `[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+`, units ns..h, "0" alone, int64 nanoseconds."""
    invalid = f'time: invalid duration "{text}"'
    s, neg, total = text, False, 0
    if s and s[0] in "+-":
        neg, s = s[0] == "-", s[1:]
    if s == "0":
        return None
    if not s:
        return invalid
    while s:
        if not (s[0] == "." or "0" <= s[0] <= "9"):
            return invalid
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        pre, whole, s = i > 0, int(s[:i] or 0), s[i:]
        if whole >= _MAX_DURATION:
            return invalid
        frac, scale, post = 0, 1.0, False
        if s and s[0] == ".":
            i = 1
            while i < len(s) and "0" <= s[i] <= "9":
                if frac < _MAX_DURATION // 10:  # Go stops accumulating precision on overflow
                    frac, scale = frac * 10 + int(s[i]), scale * 10
                i += 1
            post, s = i > 1, s[i:]
        if not pre and not post:
            return invalid
        i = 0
        while i < len(s) and not (s[i] == "." or "0" <= s[i] <= "9"):
            i += 1
        if i == 0:
            return f'time: missing unit in duration "{text}"'
        unit = _UNITS.get(s[:i])
        if unit is None:
            return f'time: unknown unit "{s[:i]}" in duration "{text}"'
        s = s[i:]
        if whole > _MAX_DURATION // unit:
            return invalid
        value = whole * unit
        if frac:
            value += int(frac * (unit / scale))
            if value > _MAX_DURATION:
                return invalid
        total += value
        if total > _MAX_DURATION:
            return invalid
    if not neg and total > _MAX_DURATION - 1:
        return invalid
    return None


def nillable_duration_error(text: str) -> str | None:
    """Karpenter's NillableDuration: the literal "Never", otherwise time.ParseDuration."""
    return None if text == "Never" else go_duration_error(text)


# resource.ParseQuantity -----------------------------------------------------------------------

_QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_SUFFIXES = {
    "": (10, 0),
    "n": (10, -9),
    "u": (10, -6),
    "m": (10, -3),
    "k": (10, 3),
    "M": (10, 6),
    "G": (10, 9),
    "T": (10, 12),
    "P": (10, 15),
    "E": (10, 18),
    "Ki": (2, 10),
    "Mi": (2, 20),
    "Gi": (2, 30),
    "Ti": (2, 40),
    "Pi": (2, 50),
    "Ei": (2, 60),
}
_INT64 = (-(1 << 63), (1 << 63) - 1)
_GO_INT = re.compile(r"[+-]?[0-9]+")


def _go_parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64); None on syntax or range error."""
    if not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else None


def _parse_quantity_string(s: str) -> tuple[str, str, str, str] | None:
    """apimachinery parseQuantityString -> (value, num, denom, suffix), or None for ErrFormatWrong."""
    pos, end = 0, len(s)
    if pos < end and s[0] in "+-":
        pos += 1
    while True:  # strip leading zeros
        if pos >= end:
            return "0", "0", "", ""
        if s[pos] != "0":
            break
        pos += 1
    start = pos
    while pos < end and "0" <= s[pos] <= "9":
        pos += 1
    if pos >= end:
        return s, s[start:], "", ""
    num, denom = s[start:pos] or "0", ""
    if s[pos] == ".":
        pos += 1
        start = pos
        while pos < end and "0" <= s[pos] <= "9":
            pos += 1
        denom = s[start:pos]
        if pos >= end:
            return s, num, denom, ""
    value, suffix_start = s[:pos], pos
    while pos < end and s[pos] in "eEinumkKMGTP":
        pos += 1
    if pos >= end:
        return value, num, denom, s[suffix_start:]
    if s[pos] in "+-":
        pos += 1
    while pos < end and "0" <= s[pos] <= "9":
        pos += 1
    return (value, num, denom, s[suffix_start:]) if pos >= end else None


def _inf_dec_parses(value: str) -> bool:
    """gopkg.in/inf.v0 Dec.SetString: optional leading sign, digits with at most one '.', at least one digit."""
    return re.fullmatch(r"[+-]?[0-9]*\.?[0-9]*", value) is not None and any(c.isdigit() for c in value)


def quantity_error(text: str) -> str | None:
    """resource.ParseQuantity (what Quantity.UnmarshalJSON calls on the trimmed string)."""
    if text == "":
        return _QUANTITY_FORMAT
    if text == "0":
        return None
    parsed = _parse_quantity_string(text)
    if parsed is None:
        return _QUANTITY_FORMAT
    value, num, denom, suffix = parsed
    base_exp = _SUFFIXES.get(suffix)
    if base_exp is None:
        exponent = _go_parse_int64(suffix[1:]) if len(suffix) > 1 and suffix[0] in "eE" else None
        if exponent is None:
            return "unable to parse quantity's suffix"
        base_exp, decimal = (10, ((exponent + (1 << 31)) % (1 << 32)) - (1 << 31)), True  # Go's int32() wrap
    else:
        decimal = base_exp[0] == 10
    _base, exponent = base_exp
    if decimal:
        scale, precision = exponent, 18 - (len(num) + len(denom))
    elif exponent >= 0 and not denom:
        scale, precision = 0, 15 - len(num) - int(exponent * 3 / 10) - 1
    else:
        scale, precision = 0, -1
    if precision >= 0 and scale - len(denom) >= -9:
        if _go_parse_int64(num + denom) is None:
            return "unable to parse numeric part of quantity"
        return None
    return None if _inf_dec_parses(value) else "unable to parse numeric part of quantity"


def quantity_is_zero(text: str) -> bool:
    """Whether a string resource.ParseQuantity accepts denotes zero (no non-zero digit before the suffix)."""
    parsed = _parse_quantity_string(text)
    return parsed is not None and not any(c in "123456789" for c in parsed[1] + parsed[2])


def quantity_json_error(value: object) -> str | None:
    """Quantity.UnmarshalJSON for a JSON string or number (int-or-string fields)."""
    if isinstance(value, bool):
        return "json: cannot unmarshal bool into a Quantity"
    if isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    return quantity_error(str(value).strip(" \t\n\v\f\r"))


_GO_FLOAT = re.compile(r"[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))")


def percentage_or_quantity_error(text: str) -> str | None:
    """Eviction thresholds: "N%" read by strconv.ParseFloat(strings.Trim(v, "%")), else a Quantity."""
    if text.endswith("%"):
        ok = _GO_FLOAT.fullmatch(text.strip("%"))
        return None if ok else f"expected percentage value to be a float but got {text}"
    return quantity_error(text)


# robfig/cron/v3 ParseStandard -----------------------------------------------------------------

_MONTHS = {n: i + 1 for i, n in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DAYS = {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_FIELDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # unicode.IsSpace
_GO_SPACE = re.compile(f"[{_SPACES}]+")
_GO_TRIM = re.compile(f"^[{_SPACES}]+|[{_SPACES}]+$")


def _cron_uint(expr: str) -> tuple[int, str | None]:
    """robfig/cron mustParseInt: strconv.Atoi, no negatives; (value, error)."""
    value = _go_parse_int64(expr)
    if value is None:
        return 0, f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax'
    if value < 0:
        return 0, f"negative number ({value}) not allowed: {expr}"
    return value, None


def _cron_range(expr: str, low: int, high: int, names: dict[str, int] | None) -> str | None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        values = []
        for part in low_and_high[:2]:
            value = names.get(part.lower()) if names else None
            if value is None:
                value, err = _cron_uint(part)
                if err:
                    return err
            values.append(value)
        if len(low_and_high) > 2:
            return f"too many hyphens: {expr}"
        start, end = values[0], values[-1]
    step = 1
    if len(range_and_step) == 2:
        step, err = _cron_uint(range_and_step[1])
        if err:
            return err
        if len(low_and_high) == 1:
            end = high
    elif len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    if step == 0:
        return f"step of range should be a positive number: {expr}"
    return None


def cron_error(schedule: str) -> str | None:
    """Karpenter's cron.ParseStandard("TZ=UTC " + schedule): 5 fields or an @descriptor."""
    spec = _GO_TRIM.sub("", schedule)  # Go strips "TZ=UTC " and TrimSpaces the rest; a user TZ= is a field
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            err = go_duration_error(spec[len("@every ") :])
            return f"failed to parse duration {spec}: {err}" if err else None
        return f"unrecognized descriptor: {spec}"
    fields = [f for f in _GO_SPACE.split(spec) if f]
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for field, (low, high, names) in zip(fields, _FIELDS, strict=True):
        for expr in (r for r in field.split(",") if r):
            err = _cron_range(expr, low, high, names)
            if err:
                return err
    return None


# k8s.io/apimachinery/pkg/util/validation ------------------------------------------------------

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def dns1123_subdomain_error(value: str) -> str | None:
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def qualified_name_error(value: str) -> str | None:
    """validation.IsQualifiedName: [prefix/]name, prefix a DNS-1123 subdomain (<=253), name <=63."""
    parts = value.split("/")
    if len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return "prefix part must be non-empty"
        err = dns1123_subdomain_error(prefix)
        if err:
            return f"prefix part {err}"
    elif len(parts) == 1:
        name = parts[0]
    else:
        return (
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
            "end with an alphanumeric character, with an optional DNS subdomain prefix and '/'"
        )
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME.fullmatch(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character"
        )
    return None


def label_value_error(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if value and not _QUALIFIED_NAME.fullmatch(value):
        return (
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


# metav1.Time (RFC 3339 only) and the OpenAPI date-time format ------------------------------------

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))")
_OPENAPI_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (29 if month == 2 and leap else _DAYS_IN_MONTH[month - 1] if month != 2 else 28)


def openapi_datetime_ok(value: str) -> bool:
    """kube-openapi strfmt.IsDateTime (what the API server checks for format: date-time)."""
    if len(value) < 4:
        return False
    parts = value.lower().split("t")
    date = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", parts[0])
    if len(parts) < 2 or not date or not _valid_date(*map(int, date.groups())):
        return False
    m = _OPENAPI_TIME.match(parts[1])
    return bool(m and m.end() == len(parts[1]) and m[1] <= "23" and m[2] <= "59" and m[3] <= "59")


def rfc3339_error(value: str) -> str | None:
    """metav1.Time.UnmarshalJSON: time.Parse(time.RFC3339, value)."""
    m = _RFC3339.fullmatch(value)
    if (
        not m
        or not _valid_date(int(m[1]), int(m[2]), int(m[3]))
        or int(m[4]) > 23
        or int(m[5]) > 59
        or int(m[6]) > 59
        or (m[9] and (int(m[9]) > 23 or int(m[10]) > 59))
    ):
        return f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse'
    return None
