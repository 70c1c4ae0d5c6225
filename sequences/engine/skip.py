"""What a send attempt answers when it sends nothing this time."""


class Skip(Exception):
    """Nothing is sent this time: the claim is no longer ours, the enrollment moved on, stopped
    or must wait. The text says why; it is the task's result."""
