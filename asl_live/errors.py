"""The one exception type for problems a user can fix (bad input, missing device).

Command-line entry points catch it and print its message as one line on stderr
with exit code 2; everything else is a bug and keeps its traceback. Every command's
argument parser is `ArgumentParser`, so a usage error is such a line too.
"""

import argparse


class UserError(Exception):
    """A problem with the user's input or machine, stated in one line."""

    exit_code = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), like every other bad input."""

    def error(self, message):
        raise UserError(f"{message} (see {self.prog} --help)")


def run_main(main, argv=None, prog: str = "asl-live") -> int:
    """Run a command's `main(argv) -> int`, turning user errors and Ctrl-C into exit codes.

    UserError: its message as one line on stderr, exit 2. Ctrl-C: exit 130
    without a traceback (whatever the command had saved stays saved). An OSError
    that reached here (a file or folder the user named that cannot be read or
    written, a full disk) is the machine's answer to the user's input, not a bug:
    one line too, exit 2; every write is atomic, so what was saved before stays.
    """
    import sys

    try:
        return int(main(argv) or 0)
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `asl-live ... | head` closed our stdout: not an error
        return 0
    except (OSError, ImportError) as e:
        # The opencv wheel loads libGL and GLib from the system, mediapipe 1.x's Tasks library
        # libEGL and libGLESv2 (ctypes: an OSError): present on desktops, absent on a minimal server or
        # container. That is the machine's set-up, not a bug.
        if "cannot open shared object file" in str(e):
            print(f"{prog}: error: a system library is missing ({e}); on Debian/Ubuntu: "
                  "sudo apt-get install libgl1 libegl1 libgles2 libglib2.0-0", file=sys.stderr)
            return UserError.exit_code
        if isinstance(e, ImportError):
            raise
        print(f"{prog}: error: {os_error_line(e)}", file=sys.stderr)
        return UserError.exit_code


def os_error_line(e: OSError) -> str:
    """`path: No space left on device` (the path, the system's reason), without the errno noise."""
    reason = e.strerror or type(e).__name__
    if e.filename is None:
        return reason
    return f"{e.filename}: {reason}" + (f" -> {e.filename2}" if e.filename2 else "")
