//! sqlite implementation of the storage traits (to be written).

use super::{Result, StorageError, UserTable};

pub struct SqliteStore {
    _users: UserTable,
}

impl SqliteStore {
    pub async fn open(_path: &std::path::Path, users: UserTable) -> Result<Self> {
        let _ = Self { _users: users };
        Err(StorageError::Config("not implemented".into()))
    }
}
