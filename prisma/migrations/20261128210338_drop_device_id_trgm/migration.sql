-- DropIndex
DROP INDEX "Device_id_trgm_idx";
