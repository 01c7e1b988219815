/**
 * A human sentence per log kind, worded as Quay's own UI writes it
 * (static/js/directives/ui/logs-view.js): "Pull of image acme/web:1.4 by alice".
 * `{x}` is a metadata field; `[[…]]` is dropped when a field inside it is missing.
 */
type Meta = Record<string, unknown>;
type Template = string | ((m: Meta) => string);

const T: Record<string, Template> = {
  pull_repo: (m) =>
    m.tag ? 'Pull of image {namespace}/{repo}:{tag}' : m.manifest_digest ? 'Pull of image {namespace}/{repo}@{manifest_digest}' : 'Pull of repository {namespace}/{repo}',
  pull_repo_failed: (m) => (m.tag ? 'Pull attempt of {namespace}/{repo}:{tag} failed' : 'Pull attempt of repository {namespace}/{repo} failed'),
  push_repo: (m) => (m.tag ? 'Push of {tag}[[ to repository {namespace}/{repo}]]' : 'Repository push[[ to {namespace}/{repo}]]'),
  push_repo_failed: 'Push attempt to {namespace}/{repo}[[:{tag}]] failed',
  repo_verb: 'Pull of tag {tag}[[ from {namespace}/{repo}]][[ ({verb})]]',
  login_success: (m) => (m.type === 'quayauth' ? 'Login to Quay' : 'Login[[ via {type}]]'),
  login_failure: 'Failed login[[ by {username}]][[: {message}]]',
  logout_success: 'Logout from Quay',
  create_tag: 'Tag {tag} created in repository {namespace}/{repo}[[ on image {image}]]',
  move_tag: 'Tag {tag} moved[[ from image {original_image}]][[ to image {image}]] in repository {namespace}/{repo}',
  delete_tag: 'Tag {tag} deleted in repository {namespace}/{repo}',
  revert_tag: 'Tag {tag} restored[[ to image {image}]] in repository {namespace}/{repo}',
  change_tag_expiration: 'Tag {tag} set to expire[[ on {expiration_date}]] in repository {namespace}/{repo}',
  permanently_delete_tag: 'Tag {tag} permanently deleted from repository {namespace}/{repo}',
  manifest_label_add: 'Label {key} added to manifest[[ {manifest_digest}]] in repository {namespace}/{repo}',
  manifest_label_delete: 'Label {key} deleted from manifest[[ {manifest_digest}]] in repository {namespace}/{repo}',
  create_repo: 'Create Repository {namespace}/{repo}',
  delete_repo: 'Delete repository: {repo}',
  set_repo_description: 'Change description for repository {namespace}/{repo}',
  change_repo_visibility: 'Change visibility for repository {namespace}/{repo} to {visibility}',
  change_repo_permission: (m) =>
    m.username ? 'Change permission for user {username} in repository {namespace}/{repo} to {role}' : 'Change permission for team {team} in repository {namespace}/{repo} to {role}',
  add_repo_permission: (m) =>
    m.username ? 'Grant {role} permission for repository {namespace}/{repo} to user {username}' : 'Grant {role} permission for repository {namespace}/{repo} to team {team}',
  delete_repo_permission: (m) =>
    m.username ? 'Remove permission for user {username} from repository {namespace}/{repo}' : 'Remove permission for team {team} from repository {namespace}/{repo}',
  add_repo_notification: 'Add notification of event "{event}" for repository {namespace}/{repo}',
  create_robot: 'Create Robot Account {robot}',
  delete_robot: 'Delete Robot Account {robot}',
  regenerate_robot_token: 'Regenerated token for robot {robot}',
  org_add_team_member: 'Add member {member} to team {team}',
  org_remove_team_member: 'Remove member {member} from team {team}',
  org_create_team: 'Create team {team}',
  org_create: 'Organization {namespace} created',
  create_application: 'Create application {application_name}[[ with client ID {client_id}]]',
  export_logs_success: 'Logs export[[ {export_id}]] queued for delivery',
  export_logs_failure: 'Logs export[[ {export_id}]] failed',
  user_create: (m) => (m.superuser ? 'Superuser {superuser} created user {username}' : 'User {username} created'),
  user_change_email: 'Changed email from {old_email} to {email}',
  create_app_specific_token: 'Created external application token {app_specific_token_title}',
  revoke_app_specific_token: 'Revoked external application token {app_specific_token_title}',
  service_key_create: 'Create Service Key {kid}[[ for service {service}]]',
  service_key_approve: 'Approve Service Key {kid}',
};

function fill(template: string, m: Meta): string {
  const value = (k: string) => {
    const v = m[k];
    return v === undefined || v === null || v === '' ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const optional = template.replace(/\[\[(.*?)\]\]/g, (_all, inner: string) => {
    const keys = [...inner.matchAll(/\{(\w+)\}/g)].map((x) => x[1]!);
    return keys.every((k) => value(k) !== null) ? inner : '';
  });
  return optional.replace(/\{(\w+)\}/g, (_all, k: string) => value(k) ?? '(unknown)');
}

export function describe(kind: string, metadata: Meta, performer: string | null): string {
  const t = T[kind];
  const text = t ? fill(typeof t === 'function' ? t(metadata) : t, metadata) : kind.replace(/_/g, ' ');
  return performer ? `${text} by ${performer}` : text;
}

/** Quay's robots are named `namespace+name`. */
export const isRobot = (name: string) => name.includes('+');
