"""The one exception type for problems a user can fix (bad input, missing device).

Command-line entry points catch it and print its message as one line on stderr
with exit code 2; everything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input or machine, stated in one line."""

    exit_code = 2
