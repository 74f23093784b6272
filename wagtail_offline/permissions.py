"""Who may steer offline reading: change a site's offline settings and ask for a rebuild.

One Django permission, the one Wagtail gives for the settings model. Every editor who can
reach the admin may read the offline pages report; only holders of this see its actions.
"""

MANAGE_OFFLINE = "wagtail_offline.change_offlinesettings"


def can_manage_offline(user):
    return bool(user and user.is_active and user.has_perm(MANAGE_OFFLINE))
