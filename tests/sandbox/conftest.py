import pytest

from sandbox import control, scopes

RECRUITER = "recruiter@acme.example"
CANDIDATE = "casey@candidates.example"


@pytest.fixture
def recruiter_gmail(sandbox):
    control.create_account(RECRUITER, "Rick Recruiter")
    return sandbox.gmail(sandbox.connect(RECRUITER, [scopes.SEND, scopes.READONLY]))


@pytest.fixture
def candidate_gmail(sandbox):
    control.create_account(CANDIDATE, "Casey Candidate")
    return sandbox.gmail(sandbox.connect(CANDIDATE, [scopes.SEND, scopes.READONLY]))
