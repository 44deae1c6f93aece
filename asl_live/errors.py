"""The one exception type for problems a user can fix (bad input, missing device).

Command-line entry points catch it and print its message as one line on stderr
with exit code 2; everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input or machine, stated in one line."""

    exit_code = 2


def run_main(main, argv=None, prog: str = "asl-live") -> int:
    """Run a command's `main(argv) -> int`, turning user errors and Ctrl-C into exit codes.

    UserError: its message as one line on stderr, exit 2. Ctrl-C: exit 130
    without a traceback (whatever the command had saved stays saved).
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
