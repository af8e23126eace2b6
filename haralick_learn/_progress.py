"""A one-line progress bar on standard error (no dependency needed)."""

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Count finished items and show it.

    Redrawn in place on a terminal; elsewhere (logs, CI) one line at each
    quarter, so that captured output stays readable.

    Parameters
    ----------
    total : int
        Number of items.
    enabled : bool
        Draw nothing when False.
    label : str, default="Featurizing"
        What is being done.
    unit : str, default="images"
        What is counted.
    """

    def __init__(self, total, enabled, label="Featurizing", unit="images"):
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0
        self.interactive = self.enabled and sys.stderr.isatty()
        self.label = label
        self.unit = unit
        self.start = time.perf_counter()

    def update(self, n=1):
        """Count ``n`` more finished items."""
        before = self.done
        self.done += n
        if not self.enabled:
            return
        quarter = max(1, self.total // 4)
        crossed = self.done // quarter != before // quarter
        if self.interactive or crossed or self.done == self.total:
            filled = 30 * self.done // self.total
            elapsed = time.perf_counter() - self.start
            end = "\r" if self.interactive else "\n"
            sys.stderr.write(
                f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                f"{self.done}/{self.total} {self.unit}, {elapsed:.1f} s{end}"
            )
            sys.stderr.flush()

    def close(self):
        """End the line of an interactive bar."""
        if self.interactive:
            sys.stderr.write("\n")
            sys.stderr.flush()
