// The site's runtime configuration, /config.json at the site root: {apiUrl, region,
// userPoolId, userPoolClientId}, written at deploy time from the stack's own values, and
// locally served by the local server with cognitoEndpoint (its proxy to moto's Cognito).
let loaded = null;

export function config() {
  loaded ||= fetch("/config.json", { cache: "no-store" }).then((reply) => {
    if (!reply.ok) throw new Error(`the site's /config.json could not be read (${reply.status})`);
    return reply.json();
  });
  return loaded;
}
