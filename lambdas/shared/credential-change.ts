import { isMasked, unmaskedChange, type CredentialChange, type ReceiverCredential } from "../domain/receiver-credential.ts";
import { problems } from "./problems.ts";

/**
 * The credential change a PUT or PATCH asks for. A credential sent back masked, as a read
 * showed it, keeps the stored one (read only then); a masked one that stands for nothing
 * stored is a 400, so the mask is never saved as a secret.
 */
export async function credentialChange(
  change: CredentialChange,
  current: () => Promise<ReceiverCredential | undefined>,
  field: string,
): Promise<CredentialChange> {
  if (!change || !isMasked(change)) return change;
  if (unmaskedChange(change, await current())) return undefined;
  throw problems.validation(`${field} carries the mask reads show (****) in place of a secret, and no such credential is stored.`, {
    errors: [{ field, rule: "masked", message: "carries the mask reads show; send the secret itself, or leave the field out to keep the stored credential" }],
  });
}
