"""What every command shares: the session that acts for the district."""
from __future__ import annotations

import sqlalchemy.orm as so

from foundation import db
from foundation.tenancy import unscoped

_CLI = unscoped("the jizuo command is run by the district's operators on the server itself")


def district_session() -> so.Session:
    """The command's session, unscoped: a command acts for the whole district."""
    return _CLI.mark(db.session())
