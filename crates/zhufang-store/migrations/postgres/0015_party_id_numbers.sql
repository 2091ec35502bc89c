-- A party's ID number: only written where a deployment turns the field on
-- (`dispute_id_numbers = true`); masked when shown, every full read audited.
ALTER TABLE dispute_parties ADD COLUMN id_number TEXT;
