"""The actions the trail records, each with the label the audit page shows. A new action is added
here (the page, the filter list and tests/test_audit_coverage.py read this table)."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    # the trail itself
    "audit.view": _l("Read the audit trail"),
    "audit.export": _l("Downloaded the audit trail"),
    # residents
    "resident.create": _l("Registered a resident"),
    "resident.register_again": _l("Registered again (an existing registration was shown)"),
    "resident.recover": _l("Recovered a lost code"),
    "resident.query": _l("Looked up a person's sampling records"),
    "resident.reveal": _l("Revealed a full document number and phone"),
    "resident.delete": _l("Deleted residents (retention)"),
    "resident.rebind": _l("Re-bound a record to the ID card holder at a site (a new code)"),
    "code_sheet.create": _l("Made a sheet of code cards from a list"),
    "code_sheet.view": _l("Opened a sheet of code cards"),
    # field and lab
    "backfill.record": _l("Backfilled paper forms"),
    "result.post": _l("Posted tube results"),
    "result.correct": _l("Corrected tube results"),
    "positives.view": _l("Opened the list of people to find"),
    "positives.print": _l("Printed the list of people to find"),
    "positives.export": _l("Downloaded the list of people to find"),
    # rosters and collisions
    "roster.inspect": _l("Previewed a roster file"),
    "roster.upload": _l("Uploaded a roster"),
    "roster.view": _l("Opened a roster's check report"),
    "roster.errors_download": _l("Downloaded a roster's invalid rows"),
    "roster.delete": _l("Deleted a roster"),
    "collision.download": _l("Downloaded a collision list"),
    "collision.print": _l("Printed an untested list"),
    "register.untested": _l("Opened a live list of registered residents not yet sampled"),
    # accounts
    "user.create": _l("Created a staff account"),
    "user.update": _l("Reset a staff account"),
    "user.deactivate": _l("Deactivated a staff account"),
    "user.lock": _l("A staff account was locked after too many wrong passwords"),
    "user.unlock": _l("Unlocked a staff account"),
    "user.end_sessions": _l("Ended every session of a staff account"),
    # retention
    "retention.pseudonymise": _l("Unlinked samples from identities (retention)"),
}


def label(action: str) -> str:
    """The action's label in the current language, or its name when it has none."""
    text = ACTIONS.get(action)
    return str(text) if text is not None else action
