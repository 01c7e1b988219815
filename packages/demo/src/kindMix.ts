/**
 * Which Quay log kinds the demo writes, and how often (per mille; the table is
 * normalised, so it need not sum to exactly 1000). Every name is one of Quay's
 * LogEntryKind names (packages/core/src/kinds.ts).
 */
export const KIND_MIX = [
  // Registry traffic (util/audit.py track_and_log).
  ['pull_repo', 605],
  ['push_repo', 80],
  ['repo_verb', 3],
  ['pull_repo_failed', 15],
  ['push_repo_failed', 5],
  // Logins (ACTION_LOG_AUDIT_LOGINS / ACTION_LOG_AUDIT_LOGIN_FAILURES).
  ['login_success', 130],
  ['login_failure', 15],
  ['logout_success', 5],
  // Tags and manifests (endpoints/api/tag.py, manifest.py; v2 deletes).
  ['create_tag', 30],
  ['move_tag', 20],
  ['delete_tag', 16],
  ['revert_tag', 3],
  ['change_tag_expiration', 5],
  ['permanently_delete_tag', 1],
  ['manifest_label_add', 10],
  ['manifest_label_delete', 3],
  // Repositories and their permissions.
  ['create_repo', 10],
  ['delete_repo', 2],
  ['set_repo_description', 3],
  ['change_repo_visibility', 2],
  ['change_repo_permission', 6],
  ['add_repo_permission', 2],
  ['delete_repo_permission', 2],
  ['add_repo_notification', 1],
  // Namespace-level actions (no repository).
  ['create_robot', 3],
  ['delete_robot', 1],
  ['regenerate_robot_token', 1],
  ['org_add_team_member', 4],
  ['org_remove_team_member', 1.5],
  ['org_create_team', 1],
  ['org_create', 0.8],
  ['create_application', 0.5],
  ['export_logs_success', 1],
  ['user_create', 1.5],
  ['user_change_email', 0.5],
  ['create_app_specific_token', 4],
  ['revoke_app_specific_token', 1.5],
  // Service keys: no namespace at all (excluded from /user/logs by Quay).
  ['service_key_create', 0.5],
  ['service_key_approve', 0.5],
] as const satisfies ReadonlyArray<readonly [string, number]>;

export type DemoKind = (typeof KIND_MIX)[number][0];

export const KIND_NAMES: readonly DemoKind[] = KIND_MIX.map(([k]) => k);
export const KIND_WEIGHTS: readonly number[] = KIND_MIX.map(([, w]) => w);

/** Index of a kind in KIND_MIX. */
export function kindIndex(kind: DemoKind): number {
  return KIND_NAMES.indexOf(kind);
}
