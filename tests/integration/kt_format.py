"""kmemtop's byte figures as the C code prints them (src/kmemtop/common.c), for
the tests that recompute a view's text from --json: one copy of the rounding."""


def human(b):
    """kt_human: 1023.5 rounds up to the next unit; one decimal below 9.95."""
    u = 0
    b = float(b)
    while abs(b) >= 1023.5 and u < 6:
        b /= 1024
        u += 1
    return ('%.0f%s' if u == 0 or abs(b) >= 9.95 else '%.1f%s') % (b, 'BKMGTPE'[u])


def human_delta(b):
    """kt_human_delta: the size with its sign, "0" for none."""
    return '0' if b == 0 else ('-' if b < 0 else '+') + human(abs(b))
