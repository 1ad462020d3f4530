//! postgres implementation of the storage traits (to be written).

use super::{Result, StorageError, UserTable};

pub struct PostgresStore {
    _users: UserTable,
}

impl PostgresStore {
    pub async fn connect(_url: &str, users: UserTable) -> Result<Self> {
        let _ = Self { _users: users };
        Err(StorageError::Config("not implemented".into()))
    }
}
