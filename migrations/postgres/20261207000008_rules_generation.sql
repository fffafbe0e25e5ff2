-- A counter that every change to the rules and the directory moves, in the change's own
-- transaction: the tick keeps the policies, chains and directory it read and reads this
-- one number before each threshold instead of all of them again. Triggers, so that no
-- write path (the API, the UI, the CLI, a hand-made UPDATE) can forget it.
CREATE TABLE rules_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO rules_generation (id, n) VALUES (1, 0);

CREATE FUNCTION rules_generation_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rules_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER departments_moves_rules AFTER INSERT OR UPDATE OR DELETE ON departments FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
CREATE TRIGGER users_moves_rules AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
CREATE TRIGGER policy_versions_moves_rules AFTER INSERT OR UPDATE OR DELETE ON policy_versions FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
CREATE TRIGGER escalation_chains_moves_rules AFTER INSERT OR UPDATE OR DELETE ON escalation_chains FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
CREATE TRIGGER absences_moves_rules AFTER INSERT OR UPDATE OR DELETE ON absences FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
CREATE TRIGGER groups_moves_rules AFTER INSERT OR UPDATE OR DELETE ON groups FOR EACH STATEMENT EXECUTE FUNCTION rules_generation_moves();
