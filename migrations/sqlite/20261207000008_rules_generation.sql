-- A counter that every change to the rules and the directory moves, in the change's own
-- transaction: the tick keeps the policies, chains and directory it read and reads this
-- one number before each threshold instead of all of them again. Triggers, so that no
-- write path (the API, the UI, the CLI, a hand-made UPDATE) can forget it.
CREATE TABLE rules_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO rules_generation (id, n) VALUES (1, 0);
CREATE TRIGGER departments_insert_moves_rules AFTER INSERT ON departments BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER departments_update_moves_rules AFTER UPDATE ON departments BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER departments_delete_moves_rules AFTER DELETE ON departments BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_insert_moves_rules AFTER INSERT ON users BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_update_moves_rules AFTER UPDATE ON users BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_delete_moves_rules AFTER DELETE ON users BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_insert_moves_rules AFTER INSERT ON policy_versions BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_update_moves_rules AFTER UPDATE ON policy_versions BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER policy_versions_delete_moves_rules AFTER DELETE ON policy_versions BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER escalation_chains_insert_moves_rules AFTER INSERT ON escalation_chains BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER escalation_chains_update_moves_rules AFTER UPDATE ON escalation_chains BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER escalation_chains_delete_moves_rules AFTER DELETE ON escalation_chains BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER absences_insert_moves_rules AFTER INSERT ON absences BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER absences_update_moves_rules AFTER UPDATE ON absences BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER absences_delete_moves_rules AFTER DELETE ON absences BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER groups_insert_moves_rules AFTER INSERT ON groups BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER groups_update_moves_rules AFTER UPDATE ON groups BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER groups_delete_moves_rules AFTER DELETE ON groups BEGIN UPDATE rules_generation SET n = n + 1 WHERE id = 1; END;
