"""The app shows event times on the moderator's local clock: pin the zone so pictures are stable."""

from __future__ import annotations

import os
import time

os.environ["TZ"] = "UTC"
time.tzset()
