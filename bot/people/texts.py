"""Error texts of profiles, teams, roles and 帮办 ordering."""

from aiogram.utils.i18n import lazy_gettext as __

ERRORS = {
    "phone_needed": __(
        "A volunteer's phone number is needed: coordinators use it to reach you, and it is never shown in groups. "
        "Please share it or type it, or send /cancel."
    ),
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
    "join_limit": __(
        "Sorry, you have sent {limit} join requests today, the most for one day. Please try again tomorrow."
    ),
    "not_in_this_team": __("They are not a member of team “{team}”."),
    "remove_self": __("You cannot remove yourself from a team here; to leave it, use /profile."),
    "remove_leader": __("Only a coordinator can remove a team leader from a team."),
    "block_staff": __("Coordinators and administrators cannot be blocked (nor can you block yourself)."),
    "already_blocked": __("This user is blocked already."),
    "not_blocked": __("This user is not blocked."),
}
