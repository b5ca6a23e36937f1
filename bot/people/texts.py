"""Error texts of profiles, teams, roles and 帮办 ordering."""

from aiogram.utils.i18n import lazy_gettext as __

ERRORS = {
    "not_team_leader": __("Only a coordinator or the leader of this team can do this."),
    "not_registered": __("You are not registered as a volunteer yet. Send /volunteer to register."),
    "join_pending": __("You have already asked to join “{team}”; its leader or a coordinator will answer soon."),
    "already_member": __("You are already a member of “{team}”."),
    "join_decided": __("This join request has already been answered (or withdrawn)."),
    "not_a_member": __("You are not a member of team “{team}”."),
    "no_skill": __("There is no skill “{ref}”. /skills lists them."),
    "skill_exists": __("The skill “{name}” is already on the list."),
    "leader_not_volunteer": __("Only a registered volunteer can lead a team. They must send /volunteer first."),
    "not_leader": __("They are not a leader of team “{team}”."),
}
