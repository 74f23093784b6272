"""Who may steer offline reading: change a site's offline settings and ask for a rebuild.

One permission, the one Wagtail gives for the settings model, granted to a group for
every site or, in Settings → Groups, for chosen sites only. Every editor who may work
on a site's pages can read its offline pages report; only holders of this see its actions.
"""

MANAGE_OFFLINE = "wagtail_offline.change_offlinesettings"


def can_manage_offline(user, site):
    """Whether ``user`` may change ``site``'s offline settings and rebuild its manifest."""
    from .models import OfflineSettings

    if user is None:
        return False
    policy = OfflineSettings.get_permission_policy()
    return policy.user_has_any_permission_for_instance(user, ["change"], site)
