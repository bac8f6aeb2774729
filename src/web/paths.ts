/** The routes `dacnet web` serves besides the page and its bundle. */
/** GET: `{ "networkId": N, "epochs": [...] }`, the epochs at which a committee begins. */
export const COMMITTEES_PATH = '/api/committees'
/** Followed by an epoch: a committee file (JSON) holding that epoch's committee alone. */
export const COMMITTEE_PATH = '/api/committees/'
/** Followed by a blob id: that blob's certificate as JSON. */
export const CERTIFICATE_PATH = '/api/certificates/'
