import type { TUserV1 } from "@fleet/protocol";
import { signOutAction } from "../../app/(signin)/actions";

/** Who is signed in, with which role, and the sign-out button (a server action: Next checks its Origin). */
export function UserMenu({ user }: { user: TUserV1 }) {
  return (
    <div className="user-menu" aria-label="Signed-in user">
      <span className="user-name" title={user.email}>
        {user.name ?? user.email}
      </span>
      <span className={`badge badge-role badge-role-${user.role}`} data-testid="user-role">
        {user.role}
      </span>
      <form action={signOutAction}>
        <button type="submit" className="secondary small">
          Sign out
        </button>
      </form>
    </div>
  );
}
