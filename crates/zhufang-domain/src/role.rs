use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role a user holds. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    BureauAnalyst,
    StationLeader,
    CommandRoom,
    CommunityOfficer,
    Auxiliary,
    PartnerAgency,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::BureauAnalyst,
        Role::StationLeader,
        Role::CommandRoom,
        Role::CommunityOfficer,
        Role::Auxiliary,
        Role::PartnerAgency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::BureauAnalyst => "bureau_analyst",
            Role::StationLeader => "station_leader",
            Role::CommandRoom => "command_room",
            Role::CommunityOfficer => "community_officer",
            Role::Auxiliary => "auxiliary",
            Role::PartnerAgency => "partner_agency",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::BureauAnalyst => "市局分析员",
            Role::StationLeader => "所领导",
            Role::CommandRoom => "综合指挥室",
            Role::CommunityOfficer => "社区民警",
            Role::Auxiliary => "辅警",
            Role::PartnerAgency => "联动单位",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::BureauAnalyst => "Bureau analyst",
            Role::StationLeader => "Station leader",
            Role::CommandRoom => "Command room",
            Role::CommunityOfficer => "Community officer",
            Role::Auxiliary => "Auxiliary officer",
            Role::PartnerAgency => "Partner agency",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_string()))
    }
}
