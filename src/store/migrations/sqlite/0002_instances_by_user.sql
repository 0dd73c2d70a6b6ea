-- 0002: the user view (GET /api/v1/users/{user_id}) reads instances by user.
CREATE INDEX instances_user_idx ON instances (user_id);
