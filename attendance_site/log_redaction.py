"""No log line carries a bearer link: an employee's QR page is reached by the link in its path.

Any line that names a path (uvicorn's access log, Django's "Not Found: /qr/...") would hand
the link, and with it the employee's QR codes, to whoever reads the logs. The filter masks
the link where the line is written: on Django's console handler (settings.LOGGING) and on
the web server's access log (attendance_site.server).
"""

import logging
import re

_BEARER_PATH = re.compile(r"(/qr/)[^/\s\"'?]+")


def bearer_paths_masked(text: str) -> str:
    return _BEARER_PATH.sub(r"\1<link>", text)


class BearerPathFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn.access") and isinstance(record.args, tuple) and len(record.args) >= 3:
            # uvicorn's access formatter reads the path from the arguments: mask it there.
            args = list(record.args)
            args[2] = bearer_paths_masked(str(args[2]))
            record.args = tuple(args)
            return True
        message = record.getMessage()
        masked = bearer_paths_masked(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
