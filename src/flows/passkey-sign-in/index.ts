// Sign in with a passkey alone, counted honestly as two factors when the authenticator verified
// the person (WA-07..WA-15). The hosted pages and the routes call these two functions.
export { startPasskeySignIn, type PasskeySignInStart } from './start-passkey-sign-in.js';
export { completePasskeySignIn, type PasskeySignInInput } from './complete-passkey-sign-in.js';
